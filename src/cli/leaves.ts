/**
 * The options of `serve`'s schema as a flat list with their names (see {@link leaves}): the file's keys are the
 * schema's (createSignalServer's option names), a flag is the kebab-case of the key, a variable `SIGNAL_` + its
 * SCREAMING_SNAKE, with the group left out for `limits` (`limits.maxFrameBytes`: `--max-frame-bytes`,
 * `SIGNAL_MAX_FRAME_BYTES`) and kept for `redis` (`redis.ttlMs`: `--redis-ttl-ms`, `SIGNAL_REDIS_TTL_MS`); what a
 * value must be, and a flag's or a variable's text as a value.
 */
import type * as z from 'zod';
import { cliMeta, ConfigShape, groupMeta, type GroupMeta, type OptionMeta } from './schema.js';

/** One option of the schema, with its names. */
export interface Leaf {
  /** Path in the config file (`['limits', 'maxFrameBytes']`). */
  path: string[];
  /** The path dotted: `limits.maxFrameBytes`. */
  key: string;
  schema: z.ZodType;
  meta: OptionMeta;
  /** The flag (without `--`). */
  flag: string;
  /** Every flag name accepted (the flag, then the older aliases). */
  flags: string[];
  env: string;
  /** The group it belongs to (`redis`, `limits`), if any. */
  group?: { key: string; meta: GroupMeta };
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string): string => kebab(s).replace(/-/g, '_').toUpperCase();

/** `optional`, `default` and `prefault` wrappers taken off. */
export function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (['optional', 'default', 'prefault', 'nullable'].includes(t.def.type)) t = (t.def as unknown as { innerType: z.ZodType }).innerType;
  return t;
}

/** The schema's default of an option, if it has one. */
export function defaultOf(s: z.ZodType): unknown {
  return s.def.type === 'default' ? (s.def as unknown as { defaultValue: unknown }).defaultValue : undefined;
}

/** Every option of the schema, in its order. */
export const leaves: Leaf[] = (() => {
  const out: Leaf[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string[], group: Leaf['group']): void => {
    for (const [name, schema] of Object.entries(shape)) {
      const gm = groupMeta.get(schema);
      if (gm) {
        walk((unwrap(schema) as z.ZodObject).shape as Record<string, z.ZodType>, [...prefix, name], { key: name, meta: gm });
        continue;
      }
      const meta = cliMeta.get(schema);
      if (!meta) throw new Error(`config schema: ${[...prefix, name].join('.')} has no help`);
      const named = group && !group.meta.flatten ? [group.key, name] : [name];
      const base = named.map((n, i) => (i === 0 ? n : n[0]!.toUpperCase() + n.slice(1))).join('');
      const flag = meta.inverted?.flag ?? kebab(base);
      out.push({
        path: [...prefix, name],
        key: [...prefix, name].join('.'),
        schema,
        meta,
        flag,
        flags: [flag, ...(meta.flagAliases ?? [])],
        env: meta.inverted?.env ?? `SIGNAL_${snake(base)}`,
        ...(group ? { group } : {}),
      });
    }
  };
  walk(ConfigShape.shape as unknown as Record<string, z.ZodType>, [], undefined);
  return out;
})();

/** Flags and variables of the CLI itself (not options of the server). */
export const CONFIG_FLAG = 'config';
export const CONFIG_ENV = 'SIGNAL_CONFIG';
export const META_FLAGS = ['help', 'version', 'print-config', CONFIG_FLAG] as const;

export const byFlag = new Map<string, Leaf>();
export const byEnv = new Map<string, Leaf>();
for (const l of leaves) {
  for (const f of l.flags) {
    if (byFlag.has(f) || (META_FLAGS as readonly string[]).includes(f)) throw new Error(`config schema: flag --${f} named twice`);
    byFlag.set(f, l);
  }
  for (const e of [l.env, ...(l.meta.envAliases ?? [])]) {
    if (byEnv.has(e) || e === CONFIG_ENV) throw new Error(`config schema: ${e} named twice`);
    byEnv.set(e, l);
  }
}
export const byKey = new Map(leaves.map((l) => [l.key, l] as const));

// ---- what a value must be, from the schema --------------------------------------------------------------------

export type Base = { kind: 'int'; min: number; max: number } | { kind: 'string' } | { kind: 'boolean' } | { kind: 'one of'; values: string[] } | { kind: 'list' };

export function bases(s: z.ZodType): Base[] {
  const t = unwrap(s);
  const def = t.def as unknown as Record<string, unknown>;
  switch (t.def.type) {
    case 'union':
      return (def.options as z.ZodType[]).flatMap(bases);
    case 'number': {
      const n = t as z.ZodNumber;
      return [{ kind: 'int', min: n.minValue ?? -Infinity, max: n.maxValue ?? Infinity }];
    }
    case 'boolean':
      return [{ kind: 'boolean' }];
    case 'enum':
      return [{ kind: 'one of', values: (t as z.ZodEnum).options.map(String) }];
    case 'literal':
      return [{ kind: 'one of', values: (def.values as unknown[]).map(String) }];
    case 'array':
      return [{ kind: 'list' }];
    default:
      return [{ kind: 'string' }];
  }
}

/** What a value of `leaf` must be, for a message or `--help`; `fromText`: as a flag or a variable gives it. */
export function expects(leaf: Leaf, fromText: boolean): string {
  if (leaf.meta.expects) return leaf.meta.expects;
  return bases(leaf.schema)
    .map((b) => {
      if (b.kind === 'int') return b.max >= Number.MAX_SAFE_INTEGER ? `an integer ≥ ${b.min}` : `an integer from ${b.min} to ${b.max}`;
      if (b.kind === 'boolean') return fromText ? 'true, false, 1 or 0' : 'true or false';
      if (b.kind === 'one of') return `one of ${b.values.join(', ')}`;
      if (b.kind === 'list') return fromText ? 'a comma-separated list of non-empty strings' : 'an array of non-empty strings';
      return 'a non-empty string';
    })
    .join(' or ');
}

/** A flag's or a variable's text as the value the schema checks (a number, a boolean, a list split at commas), else the text itself. */
export function fromText(leaf: Leaf, raw: string): unknown {
  for (const b of bases(leaf.schema)) {
    if (b.kind === 'list') return raw.split(',').map((v) => v.trim());
    if (b.kind === 'int' && /^[+-]?\d+(\.\d+)?(e\d+)?$/i.test(raw.trim())) return Number(raw);
    if (b.kind === 'boolean') {
      const v = { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()];
      if (v !== undefined) return leaf.meta.inverted ? !v : v;
    }
  }
  return raw;
}

// ---- checking ----------------------------------------------------------------------------------------------------

/** A usage error: exit 2 with these lines on stderr. */
export class UsageError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** The closest of `names` to `name` (a typo), as ` (did you mean …?)`, or ''. */
export function suggest(name: string, names: readonly string[], prefix: string): string {
  let best = '';
  let bestD = Infinity;
  for (const n of names) {
    const d = distance(name.toLowerCase(), n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${prefix}${best}?)` : '';
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
