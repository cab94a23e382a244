/**
 * The layer rules of DESIGN.md, for every layer, read from the import statements of every file under src/: which
 * layer may import which, which packages each may use, no Node built-ins or server code in what browsers load, and no
 * import cycle anywhere (the check `madge --circular src` would make, written here so it needs no extra tool).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every import / export-from / dynamic import specifier of a file (type-only imports included: they are rules too). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

/** The src file a relative specifier names (`./x.js` -> `x.ts` or `x.tsx`). */
function target(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const ext of ['.ts', '.tsx']) {
    try {
      if (statSync(base + ext).isFile()) return base + ext;
    } catch {
      // try the next extension
    }
  }
  return null;
}

const layerOf = (file: string): string => relative(SRC, file).split('/')[0]!.replace(/\.tsx?$/, '');

/** Layer -> the layers it may import (itself always). DESIGN.md, "Layers". */
const MAY_IMPORT: Record<string, string[]> = {
  protocol: [],
  client: ['protocol'],
  server: ['protocol'],
  react: ['client', 'protocol'],
  components: ['react', 'client', 'protocol'],
  calls: ['react', 'components', 'client', 'protocol'],
  testing: ['server', 'client', 'protocol'],
  cli: ['server', 'protocol'],
  index: ['react', 'components', 'client', 'protocol'],
};

/** Layer -> packages it may import. Node built-ins (`node:*`) only where listed. */
const PACKAGES: Record<string, RegExp> = {
  protocol: /^$/,
  client: /^$/,
  server: /^(jose|ws|ioredis|prom-client|standardwebhooks|node:.*)$/,
  react: /^(react|react-dom|zustand|zustand\/.*|react\/jsx-runtime|use-sync-external-store\/.*)$/,
  components: /^(react|react\/jsx-runtime)$/,
  // zustand's vanilla store holds a call's snapshot (the stack's store library, already in the React entry).
  calls: /^(react|react\/jsx-runtime|zustand\/vanilla)$/,
  testing: /^(ws|node:.*)$/,
  cli: /^(node:.*|ioredis|jose|zod|yaml|pino|pino-pretty)$/,
  index: /^$/,
};

/** Server files the browser entry (`react-signal-service/server/browser`, the in-page server) may reach. */
const SERVER_NODE_ONLY = /^(ws|ioredis|prom-client|node:.*)$/;

const all = files(SRC);
const graph = new Map(all.map((f) => [f, specifiers(f)] as const));

describe('layer rules (DESIGN.md)', () => {
  it('every file imports only the layers and packages its layer may', () => {
    const bad: string[] = [];
    for (const [file, specs] of graph) {
      const layer = layerOf(file);
      const allowed = MAY_IMPORT[layer];
      if (!allowed) {
        bad.push(`${relative(SRC, file)}: unknown layer ${layer}`);
        continue;
      }
      for (const spec of specs) {
        const t = target(file, spec);
        if (t) {
          const to = layerOf(t);
          if (to !== layer && !allowed.includes(to)) bad.push(`${relative(SRC, file)} imports ${relative(SRC, t)} (${layer} -> ${to})`);
        } else if (spec.startsWith('.')) {
          if (!/\.css$/.test(spec)) bad.push(`${relative(SRC, file)}: unresolved ${spec}`);
        } else if (!PACKAGES[layer]!.test(spec)) bad.push(`${relative(SRC, file)} imports package ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the in-page server entry reaches no Node-only module (it runs in a browser page)', () => {
    const entry = join(SRC, 'server', 'browser.ts');
    const seen = new Set<string>();
    const bad: string[] = [];
    const walk = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const spec of graph.get(f) ?? []) {
        const t = target(f, spec);
        if (t) walk(t);
        else if (SERVER_NODE_ONLY.test(spec)) bad.push(`${relative(SRC, f)} imports ${spec}`);
      }
    };
    walk(entry);
    expect(seen.size).toBeGreaterThan(3);
    expect(bad).toEqual([]);
  });

  it('no import cycle anywhere under src/', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const spec of graph.get(f) ?? []) {
        const t = target(f, spec);
        if (!t) continue;
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => relative(SRC, x)).join(' -> '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
