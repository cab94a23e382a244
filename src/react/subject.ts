import { decodeClaims, type AccessToken } from '../client/access-token.js';

/**
 * `identity/device` of a token, read without side effects (no AccessToken, no timer), so it can run
 * during render. `undefined` for an unreadable JWT (the provider then reports the error).
 */
export function subjectOf(token: string | AccessToken): string | undefined {
  if (typeof token !== 'string') return `${token.identity}/${token.device}`;
  try {
    const sub = decodeClaims(token).sub;
    return typeof sub === 'string' && sub.includes('/') ? sub : undefined;
  } catch {
    return undefined;
  }
}
