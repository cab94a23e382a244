/** Secrets kept out of what `serve` prints (`--print-config`, error messages, the listening log line). */
import type { Config } from './schema.js';
import { leaves } from './leaves.js';
import { getPath, setPath } from './sources.js';

/** Shown in place of a secret value. */
export const REDACTED = '[redacted]';


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
