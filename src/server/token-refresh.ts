/**
 * `signal.refresh` (extension): a new token for the same identity and device replaces the connection's token (its
 * `exp`, and the claims `authorize` sees) without a reconnect. Refused with -32601 on a server that cannot verify
 * tokens, -32001 for a bad token or one of another identity or device.
 */
import { ERROR, METHOD, type Limits } from '../protocol/constants.js';
import type { FrameError, RefreshParams, RpcId } from '../protocol/frames.js';
import type { VerifiedToken } from './auth.js';
import type { Expiries } from './expiries.js';
import { rid } from './reply-ids.js';
import type { Session } from './session.js';

/** Handle one `signal.refresh` of `s`; `keepClaims`: `authorize` reads the claims, so the new ones replace them. */
export async function refreshToken(
  s: Session,
  params: RefreshParams,
  rpcId: RpcId | undefined,
  verifyToken: ((jwt: string) => Promise<VerifiedToken>) | undefined,
  keepClaims: boolean,
  expiries: Expiries<Session>,
  limits: Limits,
): Promise<void> {
  const fail = (code: FrameError['code'], message: string): void => s.refuse({ code, message, method: METHOD.refresh, ...rid(rpcId) }, limits);
  if (!verifyToken) return fail(ERROR.METHOD_NOT_FOUND, 'token refresh is not available on this server');
  let tok: VerifiedToken;
  try {
    tok = await verifyToken(params.jwt);
  } catch (e) {
    return fail(ERROR.UNAUTHORIZED, (e as Error)?.message ?? 'invalid token');
  }
  if (s.closed) return;
  if (tok.identity !== s.identity || tok.device !== s.device) {
    return fail(ERROR.UNAUTHORIZED, `the token is for ${tok.identity}/${tok.device}, not ${s.identity}/${s.device}`);
  }
  if (keepClaims) s.claims = tok.claims as Record<string, unknown>;
  expiries.set(s, tok.claims.exp);
  s.result(rpcId, { ok: true, ...(s.exp === 0 ? {} : { exp: s.exp / 1000 }) }, limits);
}
