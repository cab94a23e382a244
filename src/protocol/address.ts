/** A parsed endpoint address: `identity`, `identity/device` or `identity/device/route`. */
export interface Address {
  identity: string;
  device?: string;
  route?: string;
}

/**
 * Parse an address. Returns `null` when it is not a string of one to three non-empty
 * `/`-separated parts, or longer than `maxLength`.
 */
export function parseAddress(value: unknown, maxLength = 512): Address | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return null;
  const parts = value.split('/');
  if (parts.length > 3 || parts.some((p) => p.length === 0)) return null;
  const [identity, device, route] = parts as [string, string?, string?];
  const out: Address = { identity };
  if (device !== undefined) out.device = device;
  if (route !== undefined) out.route = route;
  return out;
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
