import { isWellFormed } from './well-formed.js';

/** A parsed endpoint address: `identity`, `identity/device` or `identity/device/route`. */
export interface Address {
  identity: string;
  device?: string;
  route?: string;
}

/**
 * Parse an address. Returns `null` when it is not a string of one to three non-empty
 * `/`-separated parts, longer than `maxLength`, or not well-formed UTF-16 (a lone surrogate).
 */
export function parseAddress(value: unknown, maxLength = 512): Address | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !isWellFormed(value)) return null;
  // indexOf rather than split: no array per call (every direct message is parsed here).
  const a = value.indexOf('/');
  if (a === -1) return { identity: value };
  const b = value.indexOf('/', a + 1);
  const end = b === -1 ? value.length : b;
  if (a === 0 || end === a + 1) return null;
  if (b === -1) return { identity: value.slice(0, a), device: value.slice(a + 1) };
  if (b === value.length - 1 || value.indexOf('/', b + 1) !== -1) return null;
  return { identity: value.slice(0, a), device: value.slice(a + 1, b), route: value.slice(b + 1) };
}

/** Parse a token subject `identity/device`; `null` when it lacks a device or has a route. */
export function parseSubject(sub: unknown): { identity: string; device: string } | null {
  const a = parseAddress(sub);
  if (!a || a.device === undefined || a.route !== undefined) return null;
  return { identity: a.identity, device: a.device };
}

/** Whether an endpoint `identity/device/route` is reached by the address `to`. */
export function addressMatches(to: Address, endpoint: Address): boolean {
  return (
    to.identity === endpoint.identity &&
    (to.device === undefined || to.device === endpoint.device) &&
    (to.route === undefined || to.route === endpoint.route)
  );
}
