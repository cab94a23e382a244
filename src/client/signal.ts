import { MAX_CHANNEL_NAME, METHOD } from '../protocol/constants.js';
import { parseAddress } from '../protocol/address.js';
import type { ServerNotification } from '../protocol/frames.js';
import { AccessToken } from './access-token.js';
import { Channel, type JoinOptions } from './channel.js';
import { connection, type Connection, type ConnectionPhase } from './connection.js';
import { Emitter } from './emitter.js';
import { SignalError } from './errors.js';
import { withDefaults, type SignalOptions } from './options.js';
import { connectionState } from './phase.js';
import type { ConnectionState, Payload, SignalMessage } from './types.js';

export type { SignalOptions } from './options.js';
export { urlFromToken, type WebSocketConstructor, type WebSocketLike } from './websocket.js';

/** Events of {@link Signal}. */
export type SignalEvents<M extends object> = {
  /** A direct message (not in a channel's context). */
  message: [msg: SignalMessage<M>];
  /** Connection state changed. The first one (`connecting`, from the constructor) comes after the constructor returned. */
  state: [state: ConnectionState, prev: ConnectionState];
  /** Something was refused or could not be sent. Errors from the constructor come after it returned. */
  error: [error: SignalError];
};

/**
 * The signal client: one connection, direct messages, channels. A thin front: the connection and its parts live in
 * connection.ts (phases in phase.ts, the outgoing queue, requests, keepalive, reconnect, token refresh); the Signal
 * holds the token and the channels, routes each frame to its channel, and tells what changed.
 */
export class Signal<M extends object = Payload> extends Emitter<SignalEvents<M>> {
  /** Joined channels by name. */
  readonly channels = new Map<string, Channel<Payload, unknown>>();
  #token: AccessToken;
  #offToken: () => void;
  readonly #conn: Connection;

  constructor(token: AccessToken | string, options: SignalOptions = {}) {
    super();
    this.#token = typeof token === 'string' ? new AccessToken(token) : token;
    const conn = (this.#conn = connection(
      withDefaults(options),
      this,
      (prev, next) => this.#changed(prev, next),
      // Always a rejoin: participants known from before (a reconnect, or close() then connect()) that the server
      // does not announce again are removed with op -1.
      () => {
        for (const ch of [...this.channels.values()]) ch._join(true);
      },
      (note) => this.#route(note),
      (e) => this.emit('error', e),
    ));
    this.#offToken = this.#conn.watch(this.#token);
    if (options.autoConnect !== false) this.#toldLater(() => conn.connect());
  }

  /** Connection state: `connecting | open | reconnecting | closed`. */
  get state(): ConnectionState {
    return connectionState(this.#conn.phase);
  }
  /** The current access token. */
  get token(): AccessToken {
    return this.#token;
  }
  /** Frames waiting for the connection. */
  get queued(): number {
    return this.#conn.outbox.length;
  }

  /** Open the connection (again, after `close()`). No-op when connecting or open. */
  connect(): void {
    this.#conn.connect();
  }

  /** Close for good (until `connect()`): no timer or socket is left behind; joins waiting are refused. */
  close(): void {
    this.#conn.close();
  }

  /** Close and release the token listener; the instance is not reused. */
  dispose(): void {
    this.close();
    this.#offToken();
  }

  /** Swap the access token; the next connect uses it (open channels are kept). */
  setToken(token: AccessToken | string): void {
    const next = typeof token === 'string' ? new AccessToken(token) : token;
    if (next === this.#token) return;
    this.#offToken();
    this.#token = next;
    this.#offToken = this.#conn.watch(next);
    this.#conn.tokenChanged();
  }

  /** Send a direct message to `identity`, `identity/device` or `identity/device/route`. */
  send(payload: M & { to: string }): void {
    const to = (payload as { to?: unknown }).to;
    if (parseAddress(to) === null) throw new TypeError('send: payload.to must be identity[/device[/route]]');
    const { id: _drop, ...rest } = payload as Payload;
    this.#conn.outbox.call(METHOD.send, rest);
  }

  /** Join a channel (the same Channel when already joined). */
  join<CM extends object = Payload, CS = unknown>(name: string, options: JoinOptions = {}): Channel<CM, CS> {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CHANNEL_NAME) {
      throw new TypeError(`join: channel name must be 1 to ${MAX_CHANNEL_NAME} characters`);
    }
    const existing = this.channels.get(name);
    if (existing) return existing as unknown as Channel<CM, CS>;
    const ch = new Channel<CM, CS>(name, options.presence === true, this, this.#conn);
    this.channels.set(name, ch as unknown as Channel<Payload, unknown>);
    const p = this.#conn.phase;
    if (p.name === 'open') ch._join(false);
    else if (p.name === 'closed') ch._onClosed(p.why);
    return ch;
  }

  // ---- internals ----

  /**
   * Run `fn` from the constructor, where nobody can listen yet, and tell what it emitted once the constructor has
   * returned: its errors, and its state change unless another one came meanwhile.
   */
  #toldLater(fn: () => void): void {
    const errors: SignalError[] = [];
    const off = this.on('error', (e) => errors.push(e));
    fn();
    off();
    let changed = false;
    const offState = this.on('state', () => (changed = true));
    queueMicrotask(() => {
      offState();
      for (const e of errors) this.emit('error', e);
      if (!changed && this.state !== 'closed') this.emit('state', this.state, 'closed');
    });
  }

  /** The connection moved: the channels learn it first (joins to re-send, joins waiting refused), then the listeners. */
  #changed(prev: ConnectionPhase, next: ConnectionPhase): void {
    if (prev.name === 'open' && next.name !== 'open') for (const ch of this.channels.values()) ch._onDisconnect();
    if (next.name === 'closed') for (const ch of this.channels.values()) ch._onClosed(next.why);
    const was = connectionState(prev);
    const now = connectionState(next);
    if (was !== now) this.emit('state', now, was);
  }

  /** A notification: an error, a direct message, or something for the channel named by `params.id` to sort out. */
  #route(note: ServerNotification): void {
    const params = note.params as Payload & { from?: unknown; id?: unknown };
    const chName = typeof params.id === 'string' ? params.id : undefined;
    if (note.method === METHOD.error) {
      const p = note.params;
      this.emit('error', SignalError.fromRpc(p.code, p.message, { method: p.method, channel: chName }));
    } else if (typeof params.from !== 'string') return;
    else if (chName === undefined) {
      if (note.method === METHOD.send) this.emit('message', params as SignalMessage<M>);
    } else {
      // Not joined: dropped, as the SDK does (a channel left or failed is out of `channels` already).
      this.channels.get(chName)?._onFrame(note.method, params as Payload & { from: string });
    }
  }
}
