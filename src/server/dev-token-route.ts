/**
 * `POST /token {identity, device?}` → `{token}`: development tokens (`devTokens: true`; never on unless asked), with
 * the CORS answer `corsOrigins` allows. The body goes through `readBody` (4 KiB, 413/408), and nothing in the
 * callback may throw: a bad body is a 400 with a message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signAccessToken } from './auth.js';
import { readBody, sendJson } from './http-body.js';

/** Largest `POST /token` body read. */
const TOKEN_BODY_LIMIT = 4096;

/** What the route needs from the server's options. */
export interface DevTokenRouteOptions {
  /** The HS256 secret tokens are signed with; without it the route answers 501. */
  secret?: string | Uint8Array;
  /** Origins a browser may call the route from; `'*'` allows every origin. */
  corsOrigins: string[];
  /** The `aud` of a token minted for this request. */
  audience: (req: IncomingMessage) => string;
}

/** The route: answers `/token` (and returns `true`), else returns `false`. */
export function devTokenRoute(opts: DevTokenRouteOptions): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const cors = corsHeaders(opts.corsOrigins);
  return (req, res, path) => {
    if (path !== '/token') return false;
    const json = (status: number, body: unknown): void => sendJson(res, status, body, cors(req.headers.origin));
    if (req.method === 'OPTIONS') {
      json(204, null);
      return true;
    }
    if (req.method !== 'POST') {
      json(405, { error: 'use POST' });
      return true;
    }
    void readBody(req, res, { limit: TOKEN_BODY_LIMIT }).then((body) => {
      if (body === null) return; // answered already (413, 408) or reset mid-body
      let input: { identity?: unknown; device?: unknown };
      try {
        input = JSON.parse(body || '{}');
      } catch {
        return json(400, { error: 'body must be JSON {identity, device?}' });
      }
      // `null`, an array or a scalar is no body we can read (and must never throw in this callback).
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        return json(400, { error: 'body must be JSON {identity, device?}' });
      }
      if (opts.secret === undefined) return json(501, { error: 'dev tokens need an HS256 secret' });
      signAccessToken({
        secret: opts.secret,
        identity: input.identity as string,
        ...(input.device === undefined ? {} : { device: input.device as string }),
        audience: opts.audience(req),
      }).then(
        (token) => json(200, { token }),
        (e: Error) => json(400, { error: e.message }),
      );
    });
    return true;
  };
}

/** CORS headers for a request's `Origin`: `*`, that origin when listed (with `vary`), or none. */
function corsHeaders(origins: string[]): (origin: string | undefined) => Record<string, string> {
  const any = origins.includes('*');
  const set = new Set(origins);
  return (origin): Record<string, string> => {
    if (any) return { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' };
    if (origin !== undefined && set.has(origin)) return { 'access-control-allow-origin': origin, 'access-control-allow-headers': 'content-type', vary: 'origin' };
    return { vary: 'origin' };
  };
}
