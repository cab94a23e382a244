/**
 * The server API over HTTP, under `/api/v1/` on the server's own port (documented in openapi.yaml): JSON in and out,
 * `Authorization: Bearer <key>` checked against every configured key in constant time. With no key configured the
 * handler declines every request (the server answers its usual 404). Refusals are `{error: {code, message}}` with the
 * codes of {@link ServerApiErrorCode}. Bodies go through `readBody`: capped, never buffered past the cap.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-body.js';
import { API_ERROR_STATUS, ServerApiError, type ServerApi, type ServerApiErrorCode } from './server-api-types.js';

/** Path prefix of the HTTP API. */
export const API_PREFIX = '/api/v1';

/** Every route the HTTP API serves (the OpenAPI test checks the document against this list). */
export const API_ROUTES = [
  { method: 'POST', path: '/api/v1/send' },
  { method: 'POST', path: '/api/v1/publish' },
  { method: 'GET', path: '/api/v1/channels' },
  { method: 'GET', path: '/api/v1/channels/{name}/presence' },
  { method: 'POST', path: '/api/v1/disconnect' },
  { method: 'POST', path: '/api/v1/unsubscribe' },
] as const;

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Accepted API keys; empty: the API is off (every request declined, so the server answers 404). */
  apiKeys: readonly string[];
  api: ServerApi;
  /** Largest request body, in bytes (the frame limit plus room for the envelope). */
  maxBodyBytes: number;
}

type Body = Record<string, unknown>;
type Handler = (body: Body, param: string) => Promise<unknown>;

const PRESENCE = /^\/api\/v1\/channels\/([^/]*)\/presence$/;

/** Build the handler: `true` when it answered the request (or will), `false` when the path is not the API's. */
export function createHttpApi(opts: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const digests = opts.apiKeys.map(digest);
  const { api } = opts;
  const ok = { ok: true };
  const post = new Map<string, Handler>(Object.entries({
    '/api/v1/send': async (b) => (await api.send(str(b, 'to'), obj(b, 'payload')), ok),
    '/api/v1/publish': async (b) => (await api.publish(str(b, 'channel'), obj(b, 'payload')), ok),
    '/api/v1/disconnect': async (b) => {
      const code = optional(b, 'code', 'number') as number | undefined;
      const reason = optional(b, 'reason', 'string') as string | undefined;
      await api.disconnect(str(b, 'target'), { ...(code === undefined ? {} : { code }), ...(reason === undefined ? {} : { reason }) });
      return ok;
    },
    '/api/v1/unsubscribe': async (b) => {
      const reason = optional(b, 'reason', 'string') as string | undefined;
      await api.unsubscribe(str(b, 'target'), str(b, 'channel'), reason === undefined ? {} : { reason });
      return ok;
    },
  } satisfies Record<string, Handler>));
  const channels: Handler = async () => ({ channels: await api.channels() });
  const presence: Handler = async (_b, name) => ({ channel: name, members: await api.presence(name) });

  /** Whether the request carries one of the keys (every key compared, each in constant time). */
  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const d = digest(m[1]!);
    let found = false;
    for (const k of digests) found = timingSafeEqual(d, k) || found;
    return found;
  };

  return (req, res) => {
    if (digests.length === 0) return false;
    const raw = (req.url ?? '/').split('?')[0]!;
    if (raw !== API_PREFIX && !raw.startsWith(`${API_PREFIX}/`)) return false;
    res.on('error', () => {});
    req.on('error', () => {});
    if (!authorized(req)) {
      return fail(res, new ServerApiError('unauthorized', 'missing or unknown API key: send Authorization: Bearer <key>'), { 'www-authenticate': 'Bearer realm="signal-api"' });
    }
    let handler: Handler | undefined;
    let param = '';
    let allow: string;
    const named = PRESENCE.exec(raw);
    if (named) {
      try {
        param = decodeURIComponent(named[1]!);
      } catch {
        return fail(res, new ServerApiError('invalid_channel', 'the channel name in the path is not valid percent-encoded UTF-8'));
      }
      allow = 'GET';
      if (req.method === 'GET') handler = presence;
    } else if (post.has(raw)) {
      allow = 'POST';
      if (req.method === 'POST') handler = post.get(raw);
    } else if (raw === `${API_PREFIX}/channels`) {
      allow = 'GET';
      if (req.method === 'GET') handler = channels;
    } else {
      return fail(res, new ServerApiError('not_found', `no route ${raw.slice(0, 200)}; see openapi.yaml`));
    }
    if (!handler) return fail(res, new ServerApiError('method_not_allowed', `use ${allow}`), { allow });
    if (allow === 'GET') {
      const h = handler;
      run(res, () => h({}, param));
      return true;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      return fail(res, new ServerApiError('unsupported_media_type', 'send the body as Content-Type: application/json'));
    }
    void readBody(req, res, { limit: opts.maxBodyBytes }).then((text) => {
      if (text === null) return; // answered already (413, 408) or reset mid-body
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return fail(res, new ServerApiError('bad_json', 'the body is not valid JSON'));
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return fail(res, new ServerApiError('bad_json', 'the body must be a JSON object'));
      }
      run(res, () => handler!(body as Body, param));
    });
    return true;
  };
}

/**
 * Calls whose request completed in this turn of the event loop, run together at its end (setImmediate): their
 * fan-outs then share one corked write per recipient socket (ws-transport.ts), as several publishes read from one
 * WebSocket do, instead of one write per call.
 */
let batch: (() => void)[] = [];
function runBatch(): void {
  const calls = batch;
  batch = [];
  for (const c of calls) c();
}

/** Run a call (in this turn's batch) and answer with its result, or its refusal. Never throws. */
function run(res: ServerResponse, call: () => Promise<unknown>): void {
  if (batch.push(() => void answer(res, call)) === 1) setImmediate(runBatch);
}

async function answer(res: ServerResponse, call: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, await call());
  } catch (e) {
    fail(res, e instanceof ServerApiError ? e : new ServerApiError('internal', 'the server failed to carry out the call'));
  }
}

function fail(res: ServerResponse, e: ServerApiError, headers: Record<string, string> = {}): true {
  sendJson(res, API_ERROR_STATUS[e.code as ServerApiErrorCode] ?? 500, { error: { code: e.code, message: e.message } }, headers);
  return true;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function str(b: Body, key: string): string {
  const v = b[key];
  if (v === undefined) throw new ServerApiError('missing_field', `${key} is required`);
  if (typeof v !== 'string') throw new ServerApiError('invalid_field', `${key} must be a string`);
  return v;
}

function obj(b: Body, key: string): Record<string, unknown> {
  const v = b[key];
  if (v === undefined) throw new ServerApiError('missing_field', `${key} is required`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ServerApiError('invalid_payload', `${key} must be a JSON object`);
  return v as Record<string, unknown>;
}

function optional(b: Body, key: string, type: 'string' | 'number'): unknown {
  const v = b[key];
  if (v !== undefined && typeof v !== type) throw new ServerApiError('invalid_field', `${key} must be a ${type}`);
  return v;
}
