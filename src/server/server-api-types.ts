/**
 * The server API's public types and its one error type, shared by the in-process API (`server-api.ts`), the HTTP API
 * (`http-api.ts`) and the HTTP client (`server-client.ts`). No Node-only code: the core runs in a browser page too.
 */

/** A presence member as `presence(channel)` reports it. */
export interface PresenceMember {
  /** Endpoint address `identity/device/route`. */
  address: string;
  identity: string;
  device: string;
  /** Its last state (last writer wins); absent when it set none. */
  state?: unknown;
}

/** A channel with at least one member somewhere, as `channels()` reports it. */
export interface ChannelInfo {
  name: string;
  /** Members on every process (presence or not). */
  members: number;
  /** Of those, presence members. */
  presence: number;
}

/** Options of `disconnect`. */
export interface DisconnectOptions {
  /**
   * WebSocket close code: 1000, or 3000–4999. Our client stays closed on 4403 (the default), fetches a new token on
   * 4401, and reconnects with backoff on any other code.
   * @default 4403
   */
  code?: number;
  /** Close reason (at most 123 bytes of UTF-8). @default 'disconnected by the server' */
  reason?: string;
}

/** Options of `unsubscribe`. */
export interface UnsubscribeOptions {
  /** Told to the client in `signal.unsubscribed` (our client's `channel.reason`). @default 'removed by the server' */
  reason?: string;
}

/**
 * The server API: what an app's backend can do with the connected clients, across every server process. Messages it
 * sends carry `from: "$server"` (`SERVER_FROM`). On `createSignalServer`'s and `createInPageServer`'s objects, on
 * `SignalCore.api`, and over HTTP through `createServerClient`.
 */
export interface ServerApi {
  /** A direct message to `identity`, `identity/device` or an exact endpoint `identity/device/route`, on any process. */
  send(to: string, payload: Record<string, unknown>): Promise<void>;
  /** A channel message to every member of `channel` on every process. */
  publish(channel: string, payload: Record<string, unknown>): Promise<void>;
  /** The presence members of `channel` on every process, each with its address and last state. */
  presence(channel: string): Promise<PresenceMember[]>;
  /** Every channel with at least one member (presence or not) on any process, with counts, sorted by name. */
  channels(): Promise<ChannelInfo[]>;
  /** Close the connections of an identity, a device or one endpoint, on any process (their presence leaves). */
  disconnect(target: string, options?: DisconnectOptions): Promise<void>;
  /**
   * Remove an identity, a device or one endpoint from `channel` on any process: its peers see it leave, and it gets
   * `signal.unsubscribed` (our client marks the channel `left` with the reason and does not rejoin it).
   */
  unsubscribe(target: string, channel: string, options?: UnsubscribeOptions): Promise<void>;
}

/** Every error code of the server API (in-process and HTTP), listed in README "Server API" and openapi.yaml. */
export type ServerApiErrorCode =
  | 'bad_json'
  | 'missing_field'
  | 'invalid_field'
  | 'invalid_address'
  | 'invalid_channel'
  | 'invalid_payload'
  | 'payload_too_large'
  | 'body_too_large'
  | 'body_timeout'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'shutting_down'
  | 'internal'
  /** `createServerClient` only: the request did not reach the server or its answer was not the API's. */
  | 'network';

/** HTTP status of each code (what the HTTP API answers with it). */
export const API_ERROR_STATUS: Record<ServerApiErrorCode, number> = {
  bad_json: 400,
  missing_field: 400,
  invalid_field: 400,
  invalid_address: 400,
  invalid_channel: 400,
  invalid_payload: 400,
  payload_too_large: 413,
  body_too_large: 413,
  body_timeout: 408,
  unsupported_media_type: 415,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  shutting_down: 503,
  internal: 500,
  network: 0,
};

/** A refused server API call: a stable `code` and the HTTP `status` that goes with it. */
export class ServerApiError extends Error {
  readonly code: ServerApiErrorCode;
  /** HTTP status (0 for `network`). */
  readonly status: number;
  constructor(code: ServerApiErrorCode, message: string, status: number = API_ERROR_STATUS[code]) {
    super(message);
    this.name = 'ServerApiError';
    this.code = code;
    this.status = status;
  }
}

/** The methods of `api`, bound (spread onto the server objects). */
export function bindApi(api: ServerApi): ServerApi {
  return {
    send: (to, payload) => api.send(to, payload),
    publish: (channel, payload) => api.publish(channel, payload),
    presence: (channel) => api.presence(channel),
    channels: () => api.channels(),
    disconnect: (target, options) => api.disconnect(target, options),
    unsubscribe: (target, channel, options) => api.unsubscribe(target, channel, options),
  };
}
