import type { AccessToken } from '../client/access-token.js';

/**
 * `identity/device` of a token, read without side effects (no AccessToken, no timer), so it can run
 * during render. `undefined` for an unreadable JWT (the provider then reports the error).
 */
export function subjectOf(token: string | AccessToken): string | undefined {
  if (typeof token !== 'string') return `${token.identity}/${token.device}`;
  try {
    const part = token.split('.')[1] ?? '';
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const sub = (JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub.includes('/') ? sub : undefined;
  } catch {
    return undefined;
  }
}
