/** The three sources of `serve`'s configuration: the command line (parsed), `SIGNAL_*` variables, the config file. */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { bases, byEnv, byFlag, CONFIG_ENV, CONFIG_FLAG, fromText, leaves, META_FLAGS, suggest, UsageError, type Leaf } from './leaves.js';

// ---- the sources -----------------------------------------------------------------------------------------------

/** The values one source gives, as a config object, with where each came from. */
export interface Source {
  values: Record<string, unknown>;
  /** Raw values as the user wrote them, by dotted key (for messages). */
  raw: Map<string, unknown>;
  /** Dotted key -> how the user named it (`--port`, `SIGNAL_PORT`, `port in ./signal.json`). */
  label: Map<string, string>;
  /** How to name a key of this source that no option has (unknown keys). */
  name: (path: string) => string;
  fromText: boolean;
}

export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}

export function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
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

export function flagSource(argv: Argv): Source {
  const s: Source = { values: {}, raw: new Map(), label: new Map(), name: (p) => p, fromText: true };
  for (const { leaf, value, flag } of argv.options) {
    // A bare boolean flag means true (for an inverted one, `--allow-no-exp`: requireExp false).
    const v = value === true ? !leaf.meta.inverted : fromText(leaf, value);
    // A list option's flag may be repeated: each adds its values.
    const prev = getPath(s.values, leaf.path);
    setPath(s.values, leaf.path, Array.isArray(v) && Array.isArray(prev) ? [...prev, ...v] : v);
    s.raw.set(leaf.key, value);
    s.label.set(leaf.key, flag);
  }
  return s;
}

export function envSource(env: NodeJS.ProcessEnv, warn: (text: string) => void): Source {
  const s: Source = { values: {}, raw: new Map(), label: new Map(), name: (p) => p, fromText: true };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SIGNAL_') || value === undefined) continue;
    const leaf = byEnv.get(name);
    if (!leaf) {
      if (name !== CONFIG_ENV) warn(`${name} is not an option of serve, ignored${suggest(name, [...byEnv.keys(), CONFIG_ENV], '')}`);
      continue;
    }
    // A list variable may be built by a shell from empty parts (`"$A,$B"`): its empty items are dropped. A flag's are
    // refused (the user typed them).
    const v = fromText(leaf, value);
    setPath(s.values, leaf.path, Array.isArray(v) ? v.filter((x) => x !== '') : v);
    s.raw.set(leaf.key, value);
    s.label.set(leaf.key, name);
  }
  return s;
}

/** Read a config file (JSON; YAML when it ends in .yaml or .yml). */
export async function fileSource(file: string, from: string): Promise<Source> {
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
