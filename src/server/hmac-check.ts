/**
 * The Node server's synchronous HS256 signature check (`HmacCheck` in auth.ts), with `node:crypto`: the expected
 * signature in base64url compared with the token's in constant time (a signature in any other spelling is refused,
 * where a lenient base64 decoder would take several spellings of the same bytes). Node-only: the in-page server keeps
 * jose's WebCrypto path.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { HmacCheck } from './auth.js';

export const hmacCheck: HmacCheck = (key, signingInput, signature) => {
  const want = Buffer.from(createHmac('sha256', key).update(signingInput).digest('base64url'));
  const got = Buffer.from(signature);
  return got.length === want.length && timingSafeEqual(got, want);
};
