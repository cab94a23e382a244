/** Spawn the real bin (`node bin/react-signal-service.js`, running dist/ built by globalSetup) in CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../helpers/wait.js';

const BIN = 'bin/react-signal-service.js';

export interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every child started by {@link run}; {@link killAll} SIGKILLs those still running (by their own handle). */
const children = new Set<ChildProcess>();

export function killAll(): void {
  for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
  children.clear();
}

/** Run the CLI with `args` and only `env` as SIGNAL_* variables (the caller's are dropped). */
export function run(args: string[], env: Record<string, string> = {}): Run {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIGNAL_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, err: () => err, exited };
}

/** The exit of `r` (bounded). */
export async function exitOf(r: Run, ms = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      r.exited,
      new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no exit within ${ms} ms; stderr: ${r.err()}`)), ms))),
    ]);
  } finally {
    clearTimeout(t);
  }
}

/** Start `serve` and wait (bounded) for its `listening on` line. */
export async function serve(args: string[], env: Record<string, string> = {}): Promise<Run & { url: string }> {
  const r = run(args, env);
  const line = await waitFor(
    () => /listening on (http:\/\/[^\s]+)/.exec(r.out()) ?? (r.child.exitCode !== null ? ['', ''] : null),
    30_000,
    'the listening line',
  ).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${r.out()}\nstderr: ${r.err()}`);
  });
  if (!line[1]) throw new Error(`exited ${r.child.exitCode} before listening\nstdout: ${r.out()}\nstderr: ${r.err()}`);
  return { ...r, url: line[1] };
}

/** SIGTERM `r` and expect exit 0 (bounded). */
export async function stop(r: Run): Promise<void> {
  r.child.kill('SIGTERM');
  const { code, signal } = await exitOf(r);
  if (code !== 0) throw new Error(`exit ${code} (signal ${signal}); stdout: ${r.out()}; stderr: ${r.err()}`);
}
