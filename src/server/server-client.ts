/**
 * `createServerClient({ url, apiKey })`: the server API over HTTP for a backend in another process, with the same
 * calls and types as the in-process API. Every refusal is thrown as a {@link ServerApiError} carrying the server's
 * `code` and HTTP `status` (`network`, status 0, when the server could not be reached or did not answer as the API).
 */
import type { ChannelInfo, DisconnectOptions, PresenceMember, ServerApi, ServerApiErrorCode, UnsubscribeOptions } from './server-api-types.js';
import { ServerApiError } from './server-api-types.js';

/** Options of {@link createServerClient}. */
export interface ServerClientOptions {
  /** The server's base URL (`http://host:port`, the one clients reach it at). */
  url: string;
  /** One of the server's API keys (`--api-key`). */
  apiKey: string;
  /** Abort a call after this many ms (`network` error). @default 10000 */
  timeoutMs?: number;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The server API over HTTP. */
export type ServerClient = ServerApi;

/**
 * A typed client of the HTTP server API.
 * @example
 * ```ts
 * const api = createServerClient({ url: 'http://127.0.0.1:7070', apiKey: process.env.SIGNAL_API_KEY! });
 * await api.publish('room', { text: 'maintenance in 5 minutes' });
 * const who = await api.presence('room');
 * ```
 */
export function createServerClient(opts: ServerClientOptions): ServerClient {
  const base = new URL(opts.url);
  const doFetch = opts.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('createServerClient needs fetch (Node 18+) or options.fetch');
  if (typeof opts.apiKey !== 'string' || opts.apiKey.length === 0) throw new TypeError('createServerClient needs an apiKey');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    const url = new URL(path, base);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, {
        method,
        headers: { authorization: `Bearer ${opts.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      throw new ServerApiError('network', `${method} ${url.pathname}: ${(e as Error).message}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ServerApiError('network', `${method} ${url.pathname}: HTTP ${res.status}, not a JSON answer`, res.status);
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      if (typeof err?.code === 'string' && typeof err.message === 'string') {
        throw new ServerApiError(err.code as ServerApiErrorCode, err.message, res.status);
      }
      throw new ServerApiError('network', `${method} ${url.pathname}: HTTP ${res.status}`, res.status);
    }
    return data as T;
  }

  return {
    send: async (to, payload) => void (await call('POST', '/api/v1/send', { to, payload })),
    publish: async (channel, payload) => void (await call('POST', '/api/v1/publish', { channel, payload })),
    presence: async (channel) => (await call<{ members: PresenceMember[] }>('GET', `/api/v1/channels/${encodeURIComponent(channel)}/presence`)).members,
    channels: async () => (await call<{ channels: ChannelInfo[] }>('GET', '/api/v1/channels')).channels,
    disconnect: async (target, options: DisconnectOptions = {}) => void (await call('POST', '/api/v1/disconnect', { target, ...options })),
    unsubscribe: async (target, channel, options: UnsubscribeOptions = {}) => void (await call('POST', '/api/v1/unsubscribe', { target, channel, ...options })),
  };
}
