/**
 * Over 300 lines: reading the three sources, merging and redaction all walk the one schema with the same name
 * rules; splitting the source readers and redaction into their own files is the next step (noted in issue 12).
 *
 * `serve`'s configuration from its three sources, with one precedence: flags > `SIGNAL_*` environment variables >
 * the `--config` file > the schema's defaults. Names follow one rule (see {@link leaves}): the file's keys are the
 * schema's (createSignalServer's option names), a flag is the kebab-case of the key, a variable `SIGNAL_` + its
 * SCREAMING_SNAKE, with the group left out for `limits` (`limits.maxFrameBytes`: `--max-frame-bytes`,
 * `SIGNAL_MAX_FRAME_BYTES`) and kept for `redis` (`redis.ttlMs`: `--redis-ttl-ms`, `SIGNAL_REDIS_TTL_MS`).
 * Every source is checked on its own, so an error names the key the way the user wrote it.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type * as z from 'zod';
import { cliMeta, ConfigSchema, ConfigShape, groupMeta, type Config, type GroupMeta, type OptionMeta } from './schema.js';

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

const byFlag = new Map<string, Leaf>();
const byEnv = new Map<string, Leaf>();
for (const l of leaves) {
  for (const f of l.flags) {
    if (byFlag.has(f) || (META_FLAGS as readonly string[]).includes(f)) throw new Error(`config schema: flag --${f} named twice`);
    byFlag.set(f, l);
  }
  if (byEnv.has(l.env) || l.env === CONFIG_ENV) throw new Error(`config schema: ${l.env} named twice`);
  byEnv.set(l.env, l);
}
const byKey = new Map(leaves.map((l) => [l.key, l] as const));

// ---- what a value must be, from the schema --------------------------------------------------------------------

type Base = { kind: 'int'; min: number; max: number } | { kind: 'string' } | { kind: 'boolean' } | { kind: 'one of'; values: string[] };

function bases(s: z.ZodType): Base[] {
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
      return 'a non-empty string';
    })
    .join(' or ');
}

/** Whether an option takes a list (a repeatable flag; a variable lists values separated by commas or spaces). */
const isList = (leaf: Leaf): boolean => unwrap(leaf.schema).def.type === 'array';

/** A flag's or a variable's text as the value the schema checks (a number, a boolean, a list), else the text itself. */
function fromText(leaf: Leaf, raw: string): unknown {
  if (isList(leaf)) return raw.split(/[\s,]+/).filter(Boolean);
  for (const b of bases(leaf.schema)) {
    if (b.kind === 'int' && /^[+-]?\d+(\.\d+)?(e\d+)?$/i.test(raw.trim())) return Number(raw);
    if (b.kind === 'boolean') {
      const v = { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()];
      if (v !== undefined) return leaf.meta.inverted ? !v : v;
    }
  }
  return raw;
}

// ---- the sources -----------------------------------------------------------------------------------------------

/** The values one source gives, as a config object, with where each came from. */
interface Source {
  values: Record<string, unknown>;
  /** Raw values as the user wrote them, by dotted key (for messages). */
  raw: Map<string, unknown>;
  /** Dotted key -> how the user named it (`--port`, `SIGNAL_PORT`, `port in ./signal.json`). */
  label: Map<string, string>;
  /** How to name a key of this source that no option has (unknown keys). */
  name: (path: string) => string;
  fromText: boolean;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  let o = obj;
  for (const p of path) o = typeof o === 'object' && o !== null ? (o as Record<PropertyKey, unknown>)[p] : undefined;
  return o;
}

/** The command line, parsed. */
export interface Argv {
  positionals: string[];
  help: boolean;
  version: boolean;
  printConfig: boolean;
  config?: string;
  /** Option flags in order: the leaf, the value as written (`true` for a bare boolean flag), the flag written. */
  options: { leaf: Leaf; value: string | true; flag: string }[];
}

/** Parse `argv` (without node and the script); throws a {@link UsageError} for an unknown flag or a missing value. */
export function parseArgv(argv: string[]): Argv {
  const out: Argv = { positionals: [], help: false, version: false, printConfig: false, options: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) throw new UsageError([`unknown option ${arg}`]);
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const leaf = byFlag.get(name);
    const isBool = name === 'help' || name === 'version' || name === 'print-config' || (leaf !== undefined && bases(leaf.schema)[0]!.kind === 'boolean');
    if (!leaf && !(META_FLAGS as readonly string[]).includes(name)) {
      throw new UsageError([`unknown option --${name}${suggest(name, [...byFlag.keys(), ...META_FLAGS], '--')}`]);
    }
    let value: string | true;
    if (isBool) {
      value = inline ?? true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = argv[i + 1];
      // A value starting with `-` is taken only when it cannot be a flag: a PEM, a negative number.
      if (next === undefined || (next.startsWith('-') && !/^-----BEGIN|^-\d/.test(next))) {
        throw new UsageError([`--${name} needs a value${next === undefined ? '' : ` (for one starting with "-", write --${name}=…)`}`]);
      }
      value = next;
      i++;
    }
    if (leaf) out.options.push({ leaf, value, flag: `--${name}` });
    else if (name === CONFIG_FLAG) out.config = value as string;
    else if (value !== true && !['true', '1'].includes(value.toLowerCase())) {
      throw new UsageError([`--${name} takes no value`]);
    } else if (name === 'help') out.help = true;
    else if (name === 'version') out.version = true;
    else out.printConfig = true;
  }
  return out;
}

function flagSource(argv: Argv): Source {
  const s: Source = { values: {}, raw: new Map(), label: new Map(), name: (p) => p, fromText: true };
  for (const { leaf, value, flag } of argv.options) {
    // A bare boolean flag means true (for an inverted one, `--allow-no-exp`: requireExp false).
    const v = value === true ? !leaf.meta.inverted : fromText(leaf, value);
    // A list's flag may be repeated: its values add up.
    const before = isList(leaf) ? getPath(s.values, leaf.path) : undefined;
    setPath(s.values, leaf.path, Array.isArray(before) && Array.isArray(v) ? [...before, ...v] : v);
    s.raw.set(leaf.key, value);
    s.label.set(leaf.key, flag);
  }
  return s;
}

function envSource(env: NodeJS.ProcessEnv, warn: (text: string) => void): Source {
  const s: Source = { values: {}, raw: new Map(), label: new Map(), name: (p) => p, fromText: true };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SIGNAL_') || value === undefined) continue;
    const leaf = byEnv.get(name);
    if (!leaf) {
      if (name !== CONFIG_ENV) warn(`${name} is not an option of serve, ignored${suggest(name, [...byEnv.keys(), CONFIG_ENV], '')}`);
      continue;
    }
    setPath(s.values, leaf.path, fromText(leaf, value));
    s.raw.set(leaf.key, value);
    s.label.set(leaf.key, name);
  }
  return s;
}

/** Read a config file (JSON; YAML when it ends in .yaml or .yml). */
async function fileSource(file: string, from: string): Promise<Source> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError([`${from}: cannot read the config file ${JSON.stringify(file)}: ${(e as Error).message}`]);
  }
  const yaml = /^\.ya?ml$/i.test(extname(file));
  let values: unknown;
  try {
    values = yaml ? (await import('yaml')).parse(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError([`config file ${file}: not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`]);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError([`config file ${file}: must hold an object of options ({"port": 7070, "limits": {…}}), got ${yaml ? 'YAML' : 'JSON'} ${JSON.stringify(values)}`]);
  }
  const s: Source = { values: values as Record<string, unknown>, raw: new Map(), label: new Map(), name: (p) => `${p} in ${file}`, fromText: false };
  for (const leaf of leaves) {
    const v = getPath(values, leaf.path);
    if (v === undefined) continue;
    s.raw.set(leaf.key, v);
    s.label.set(leaf.key, `${leaf.key} in ${file}`);
    // A relative file path is relative to the config file's folder.
    if (leaf.meta.path && typeof v === 'string' && !isAbsolute(v) && !/^-----BEGIN|^https?:\/\//i.test(v)) {
      setPath(s.values, leaf.path, resolve(dirname(file), v));
    }
  }
  return s;
}

// ---- checking ----------------------------------------------------------------------------------------------------

/** A usage error: exit 2 with these lines on stderr. */
export class UsageError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** Shown in place of a secret value. */
export const REDACTED = '[redacted]';

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
    // An item of a list (`webhook.urls.0`) is named by its list's option, and shown alone.
    const item = issue.path.length > 1 && typeof issue.path[issue.path.length - 1] === 'number';
    const key = (item ? issue.path.slice(0, -1) : issue.path).map(String).join('.');
    const leaf = byKey.get(key);
    const label = s.label.get(key) ?? s.name(key);
    if (!leaf) {
      const group = ConfigShape.shape[key as keyof typeof ConfigShape.shape];
      out.push(group && groupMeta.get(group) ? `${label} must be an object of options, got ${JSON.stringify(getPath(s.values, issue.path))}` : `${label}: ${issue.message}`);
      continue;
    }
    const raw = s.raw.has(key) && !item ? s.raw.get(key) : getPath(s.values, issue.path);
    if (typeof raw === 'string' && raw.trim() === '' && bases(leaf.schema).every((b) => b.kind === 'string')) {
      out.push(`${label} is empty: give a value or leave it out`);
      continue;
    }
    const shown = leaf.meta.secret === 'value' ? `a ${typeof raw} (not shown)` : JSON.stringify(leaf.meta.secret === 'url' && typeof raw === 'string' ? redactUrl(raw) : raw);
    out.push(`${label} must be ${expects(leaf, s.fromText)}, got ${shown}`);
  }
  return out;
}

/** The closest of `names` to `name` (a typo), as ` (did you mean …?)`, or ''. */
function suggest(name: string, names: readonly string[], prefix: string): string {
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

// ---- printing ----------------------------------------------------------------------------------------------------

/** A URL with its password and any secret-looking query parameter replaced; anything else as it is. */
export function redactUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return value;
  }
  if (!u.host && !u.password) return value;
  let out = value;
  if (u.password) out = out.replace(`:${u.password}@`, `:${REDACTED}@`);
  for (const [k, v] of u.searchParams) {
    if (/pass|secret|token|key|auth/i.test(k) && v) out = out.replace(`${k}=${encodeURIComponent(v)}`, `${k}=${REDACTED}`).replace(`${k}=${v}`, `${k}=${REDACTED}`);
  }
  return out;
}

/** The configuration as a config file would give it (JSON: `Infinity` as "unlimited"), secrets redacted. */
export function printable(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const leaf of leaves) {
    const v = getPath(config, leaf.path);
    if (v === undefined) continue;
    const url = (x: unknown): unknown => (typeof x === 'string' ? redactUrl(x) : x);
    const shown = v === Infinity ? 'unlimited' : leaf.meta.secret === 'value' ? REDACTED : leaf.meta.secret === 'url' ? (Array.isArray(v) ? v.map(url) : url(v)) : v;
    setPath(out, leaf.path, shown);
  }
  return out;
}
