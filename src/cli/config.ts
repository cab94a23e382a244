/**
 * `serve`'s configuration from its three sources, with one precedence: flags > `SIGNAL_*` environment variables >
 * the `--config` file > the schema's defaults. Names follow one rule (leaves.ts). Every source is checked on its own
 * (sources.ts reads them), so an error names the key the way the user wrote it; redaction is in redact.ts.
 */
import type * as z from 'zod';
import { bases, byKey, CONFIG_ENV, expects, suggest, unwrap, UsageError } from './leaves.js';
import { redactUrl } from './redact.js';
import { ConfigSchema, ConfigShape, groupMeta, type Config } from './schema.js';
import { envSource, fileSource, flagSource, getPath, type Argv, type Source } from './sources.js';

export { CONFIG_ENV, CONFIG_FLAG, defaultOf, expects, leaves, META_FLAGS, unwrap, UsageError, type Leaf } from './leaves.js';
export { REDACTED, printable, redactUrl } from './redact.js';
export { parseArgv, type Argv } from './sources.js';

/** Messages for the issues zod found in one source, in that source's own names. */
function describe(issues: z.core.$ZodIssue[], s: Source): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const path = [...issue.path.map(String), k].join('.');
        const parent = issue.path.length ? unwrap(getPath(ConfigShape.shape, issue.path) as z.ZodType) : ConfigShape;
        const known = Object.keys((parent as z.ZodObject).shape ?? {});
        out.push(`unknown key ${s.name(path)}${suggest(k, known, '')}`);
      }
      continue;
    }
    // An item of a list (`allowedOrigins.1`) is reported as the whole option.
    const path = issue.path.map(String);
    while (path.length > 1 && /^\d+$/.test(path[path.length - 1]!)) path.pop();
    const key = path.join('.');
    const leaf = byKey.get(key);
    const label = s.label.get(key) ?? s.name(key);
    if (!leaf) {
      const group = ConfigShape.shape[key as keyof typeof ConfigShape.shape];
      out.push(group && groupMeta.get(group) ? `${label} must be an object of options, got ${JSON.stringify(getPath(s.values, issue.path))}` : `${label}: ${issue.message}`);
      continue;
    }
    const raw = s.raw.has(key) ? s.raw.get(key) : getPath(s.values, path);
    if (typeof raw === 'string' && raw.trim() === '' && bases(leaf.schema).every((b) => b.kind === 'string')) {
      out.push(`${label} is empty: give a value or leave it out`);
      continue;
    }
    const shown = leaf.meta.secret === 'value' ? `a ${typeof raw} (not shown)` : JSON.stringify(leaf.meta.secret === 'url' && typeof raw === 'string' ? redactUrl(raw) : raw);
    out.push(`${label} must be ${expects(leaf, s.fromText)}, got ${shown}`);
  }
  return out;
}


function merge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
      merge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      into[k] = v;
    }
  }
  return into;
}

/** The effective configuration, and how each key was given. */
export interface Loaded {
  config: Config;
  /** How the user gave `key` (`--secret`, `SIGNAL_SECRET`, `secret in ./c.json`); `undefined`: the default. */
  from: (key: string) => string | undefined;
  /** The config file read, if any. */
  file?: string;
}

/**
 * The configuration from the command line, the environment and the config file (`--config`, else `SIGNAL_CONFIG`).
 * Throws a {@link UsageError} listing every problem found; warnings (unknown `SIGNAL_*` variables) go to `warn`.
 */
export async function loadConfig(argv: Argv, env: NodeJS.ProcessEnv, warn: (text: string) => void): Promise<Loaded> {
  const configPath = argv.config ?? env[CONFIG_ENV];
  const configFrom = argv.config !== undefined ? '--config' : CONFIG_ENV;
  if (configPath === '') throw new UsageError([`${configFrom} is empty: give a file or leave it out`]);
  const sources = [
    ...(configPath === undefined ? [] : [await fileSource(configPath, configFrom)]),
    envSource(env, warn),
    flagSource(argv),
  ];
  const errors: string[] = [];
  for (const s of sources) {
    const r = ConfigShape.safeParse(s.values);
    if (!r.success) errors.push(...describe(r.error.issues, s));
  }
  if (errors.length) throw new UsageError(errors);

  const label = new Map<string, string>();
  const merged: Record<string, unknown> = {};
  for (const s of sources) {
    merge(merged, structuredClone(s.values));
    for (const [k, v] of s.label) label.set(k, v);
  }
  const r = ConfigSchema.safeParse(merged);
  if (!r.success) {
    // Cross-key checks: `{limits.x}` in a message names that key as the user gave it.
    throw new UsageError(
      r.error.issues.map((issue) => {
        const key = issue.path.map(String).join('.');
        const msg = issue.message.replace(/\{([\w.]+)\}/g, (_, k: string) => label.get(k) ?? k);
        return `${label.get(key) ?? key} ${msg}`;
      }),
    );
  }
  return { config: r.data, from: (key) => label.get(key), ...(configPath === undefined ? {} : { file: configPath }) };
}
