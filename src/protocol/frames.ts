import { ERROR, METHOD, PING, PONG, type ErrorNumber } from './constants.js';
import { isWellFormed } from './well-formed.js';

/** Any JSON object payload a user sends. */
export type Payload = Record<string, unknown>;
/** A JSON-RPC id. */
export type RpcId = string | number;

/** Params of `signal.send` as a client sends it. */
export interface SendParams extends Payload {
  to: string;
  /** Channel context (a direct message to a channel participant). */
  id?: string;
}
/** Params of `signal.join`. */
export interface JoinParams {
  id: string;
  presence?: boolean;
  /** Extension: with presence, take roster changes as `signal.presence` batches (one frame per tick). */
  batch?: boolean;
}
/** Params of `signal.leave`. */
export interface LeaveParams {
  id: string;
}
/** Params of `signal.refresh` (extension): a new token for the same identity and device. */
export interface RefreshParams {
  jwt: string;
}
/** Longest token `signal.refresh` accepts, in characters. */
export const MAX_JWT_LENGTH = 8192;
/** Params of `signal.publish`; a state update is `{ id, state }`. */
export interface PublishParams extends Payload {
  id: string;
}

/** A frame a client sends, keyed on `method`. `id` is present for requests (extension). */
export type ClientCall =
  | { method: typeof METHOD.send; params: SendParams; id?: RpcId }
  | { method: typeof METHOD.join; params: JoinParams; id?: RpcId }
  | { method: typeof METHOD.leave; params: LeaveParams; id?: RpcId }
  | { method: typeof METHOD.publish; params: PublishParams; id?: RpcId }
  | { method: typeof METHOD.refresh; params: RefreshParams; id?: RpcId };

/** Params of the `signal.error` extension notification. */
export interface ErrorParams {
  code: number;
  message: string;
  method?: string;
  /** The channel the refused call was about, if any. */
  id?: string;
}

/** A notification the server sends, keyed on `method`. `from` is always set by the server. */
export type ServerNotification =
  | { method: typeof METHOD.send; params: Payload & { from: string; to: string; id?: string } }
  | { method: typeof METHOD.publish; params: Payload & { from: string; id: string } }
  | { method: typeof METHOD.join; params: { id: string; from: string } }
  | { method: typeof METHOD.joinBack; params: { id: string; from: string } }
  | { method: typeof METHOD.leave; params: { id: string; from: string } }
  | { method: typeof METHOD.presence; params: PresenceParams }
  | { method: typeof METHOD.error; params: ErrorParams };

/** Params of a `signal.presence` batch (extension): see PROTOCOL.md. */
export interface PresenceParams {
  id: string;
  /** Always `''` (the server). */
  from: string;
  /** Members present now, each with its state (absent: none): `[address]` or `[address, state]`. */
  members?: [string, unknown?][];
  /** Members gone. */
  left?: string[];
  /** Sent once on a batch join, before the roster: my own endpoint address (never a participant). */
  self?: string;
}

/** A reply to a request. */
export type ServerResponse =
  | { id: RpcId; result: unknown }
  | { id: RpcId; error: { code: number; message: string } };

/** A refusal found while parsing a client frame. */
export interface FrameError {
  code: ErrorNumber;
  message: string;
  id?: RpcId;
  method?: string;
  channel?: string;
}

/** Result of parsing one client text frame. */
export type ParsedClientFrame =
  | { kind: 'ping' }
  | { kind: 'call'; call: ClientCall }
  | { kind: 'error'; error: FrameError };

/** The methods a client may call (a function, not a module-level Set, so client bundles drop it with parseClientFrame). */
function isClientMethod(m: string): boolean {
  return m === METHOD.publish || m === METHOD.send || m === METHOD.join || m === METHOD.leave || m === METHOD.refresh;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isRpcId(v: unknown): v is RpcId {
  return (typeof v === 'string' && v.length <= 64) || (typeof v === 'number' && Number.isFinite(v));
}

/** Options for {@link parseClientFrame}. */
export interface ParseOptions {
  maxChannelNameLength: number;
}

/** Check a channel name; returns an error message or `null`. */
export function channelNameError(name: unknown, maxLength: number): string | null {
  if (typeof name !== 'string') return 'channel id must be a string';
  if (name.length === 0) return 'channel id must not be empty';
  if (name.length > maxLength) return `channel id longer than ${maxLength} characters`;
  if (!isWellFormed(name)) return 'channel id must be well-formed UTF-16 (no lone surrogate)';
  return null;
}

/** A refused client frame, carrying the request id, method and channel when known (built only on refusal). */
function refusal(id: RpcId | undefined, method: string | undefined, code: ErrorNumber, message: string, channel?: string): ParsedClientFrame {
  const error: FrameError = { code, message };
  if (id !== undefined) error.id = id;
  if (method !== undefined) error.method = method;
  if (channel !== undefined) error.channel = channel;
  return { kind: 'error', error };
}

/**
 * Parse and validate one text frame from a client. Never throws.
 * Address and limit checks that need server state happen in the server.
 */
export function parseClientFrame(text: string, opts: ParseOptions): ParsedClientFrame {
  if (text === PING) return { kind: 'ping' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'error', error: { code: ERROR.PARSE, message: 'frame is not valid JSON' } };
  }
  if (Array.isArray(msg)) {
    return { kind: 'error', error: { code: ERROR.INVALID_REQUEST, message: 'batch requests are not supported' } };
  }
  if (!isObject(msg)) {
    return { kind: 'error', error: { code: ERROR.INVALID_REQUEST, message: 'frame must be a JSON-RPC object' } };
  }
  const id = msg.id;
  if (id !== undefined && id !== null && !isRpcId(id)) {
    return { kind: 'error', error: { code: ERROR.INVALID_REQUEST, message: 'id must be a string or a number' } };
  }
  const rid = id === null ? undefined : (id as RpcId | undefined);
  const method = msg.method;
  if (typeof method !== 'string') return refusal(rid, undefined, ERROR.INVALID_REQUEST, 'method must be a string');
  if (!isClientMethod(method)) {
    return refusal(rid, method, ERROR.METHOD_NOT_FOUND, `unknown method ${JSON.stringify(method.slice(0, 64))}`);
  }
  const params = msg.params;
  if (!isObject(params)) return refusal(rid, method, ERROR.INVALID_PARAMS, 'params must be an object');
  if (method === METHOD.refresh) {
    if (typeof params.jwt !== 'string' || params.jwt.length === 0 || params.jwt.length > MAX_JWT_LENGTH) {
      return refusal(rid, method, ERROR.INVALID_PARAMS, `jwt must be a token string of 1 to ${MAX_JWT_LENGTH} characters`);
    }
  } else if (method === METHOD.send) {
    if (typeof params.to !== 'string' || params.to.length === 0) {
      return refusal(rid, method, ERROR.INVALID_PARAMS, 'to must be a non-empty address string');
    }
    if (params.id !== undefined) {
      const err = channelNameError(params.id, opts.maxChannelNameLength);
      if (err) return refusal(rid, method, ERROR.INVALID_PARAMS, err);
    }
  } else {
    const err = channelNameError(params.id, opts.maxChannelNameLength);
    if (err) return refusal(rid, method, ERROR.INVALID_PARAMS, err);
    if (method === METHOD.join && params.presence !== undefined && typeof params.presence !== 'boolean') {
      return refusal(rid, method, ERROR.INVALID_PARAMS, 'presence must be a boolean', params.id as string);
    }
    if (method === METHOD.join && params.batch !== undefined && typeof params.batch !== 'boolean') {
      return refusal(rid, method, ERROR.INVALID_PARAMS, 'batch must be a boolean', params.id as string);
    }
  }
  // The parsed object itself is the call (its extra `jsonrpc` member is never read): no copy per frame.
  if (id === null) msg.id = undefined;
  return { kind: 'call', call: msg as unknown as ClientCall };
}

/** Result of parsing one server text frame on the client. */
export type ParsedServerFrame =
  | { kind: 'pong' }
  | { kind: 'notification'; note: ServerNotification }
  | { kind: 'response'; response: ServerResponse }
  /** Not a frame of the protocol (not JSON, not an object, params missing, neither a notification nor a response); the client drops it. */
  | { kind: 'invalid' };

/**
 * Parse one text frame from the server. Never throws.
 *
 * Only what the client would otherwise trip over is checked: JSON, an object, `params` an object, an error's
 * `code` and `message`. A notification's method is not checked against the known ones, and a response's `id` is not
 * checked for type: the client ignores a method it does not handle and an id it never sent, so those checks bought
 * nothing but bytes in every browser bundle.
 */
export function parseServerFrame(text: string): ParsedServerFrame {
  if (text === PONG) return { kind: 'pong' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'invalid' };
  }
  if (!isObject(msg)) return { kind: 'invalid' };
  if (typeof msg.method === 'string') {
    if (!isObject(msg.params)) return { kind: 'invalid' };
    return { kind: 'notification', note: { method: msg.method, params: msg.params } as ServerNotification };
  }
  if (msg.id !== undefined) {
    const id = msg.id as RpcId;
    if (isObject(msg.error)) {
      const code = typeof msg.error.code === 'number' ? msg.error.code : ERROR.INTERNAL;
      const message = typeof msg.error.message === 'string' ? msg.error.message : 'error';
      return { kind: 'response', response: { id, error: { code, message } } };
    }
    return { kind: 'response', response: { id, result: msg.result } };
  }
  return { kind: 'invalid' };
}

/** Encode a notification as a text frame. */
export function encodeNotification(method: string, params: object): string {
  // The same text as JSON.stringify({ jsonrpc: '2.0', method, params }), without building the wrapper object.
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}
/** Encode a client call; a request when `id` is given (JSON.stringify leaves out an undefined `id`). */
export function encodeCall(method: string, params: object, id?: RpcId): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params, id });
}
/** Encode a successful response. */
export function encodeResult(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}
/** Encode an error response. */
export function encodeError(id: RpcId, code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } });
}
