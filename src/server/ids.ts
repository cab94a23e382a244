/**
 * Random ids: node ids, routes' prefixes, development devices and secrets. WebCrypto only, so it runs in Node and in
 * a browser page, and the transport-free core does not pull in the token verifier (`auth.ts`, `jose`) for it.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random lowercase base-36 id of `length` characters. */
export function randomId(length: number): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % 36];
  return s;
}
