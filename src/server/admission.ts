import { CLOSE, PATHS } from '../protocol/constants.js';
import { TokenError, type VerifiedToken } from './auth.js';

/**
 * Admission of a WebSocket connection, written once for the Node server and the in-page server: which paths are
 * ours, where the token and `replaces` are read from, and which close code a refused token gets. The per-process
 * caps are checked by the core (`SignalCore.admit`) at the moment the connection is accepted.
 */

/** What a connection URL asks for. */
export interface ConnectUrl {
  /** The token (`?jwt=`), `''` when absent. */
  jwt: string;
  /** Extension: the client's previous endpoint address (`?replaces=`). */
  replaces: string | null;
}

/** Why a connection is refused after the upgrade: the close code and reason to send. */
export interface Refusal {
  code: number;
  reason: string;
}

/**
 * Read a connection URL (a request target such as `/signal/v1/pubsub?jwt=…`, or an absolute `ws://` URL):
 * `{ status: 400 }` when it cannot be parsed, `{ status: 404 }` when the path is not one of {@link PATHS}.
 */
export function parseConnectUrl(raw: string | undefined): ConnectUrl | { status: 400 | 404 } {
  let url: URL;
  try {
    url = new URL(raw ?? '/', 'http://localhost');
  } catch {
    return { status: 400 };
  }
  if (!PATHS.some((p) => url.pathname.endsWith(p))) return { status: 404 };
  return { jwt: url.searchParams.get('jwt') ?? '', replaces: url.searchParams.get('replaces') };
}

/**
 * Verify a connection's token: the verified token, or the refusal to close with: 4401 and the reason for a bad or
 * expired token, 1011 when the keys cannot be had (the client retries with backoff). Never throws.
 */
export async function authenticate(verify: (jwt: string) => Promise<VerifiedToken>, jwt: string): Promise<VerifiedToken | Refusal> {
  try {
    return await verify(jwt);
  } catch (e) {
    const unavailable = e instanceof TokenError && e.unavailable;
    return {
      code: unavailable ? CLOSE.INTERNAL_ERROR : CLOSE.UNAUTHORIZED,
      reason: closeReason(e instanceof TokenError ? e.message : 'invalid token'),
    };
  }
}

/** Whether an admission result is a refusal. */
export function isRefusal(v: VerifiedToken | Refusal): v is Refusal {
  return typeof (v as Refusal).code === 'number';
}

/** A close reason fits in 123 bytes of UTF-8 (`ws` throws otherwise); cut at a character boundary. */
export function closeReason(text: string): string {
  const enc = new TextEncoder();
  let out = text.slice(0, 123);
  while (enc.encode(out).length > 123) out = out.slice(0, -1);
  return out;
}
