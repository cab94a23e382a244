import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ConnectionState, Payload, Signal, SignalError, SignalMessage } from '../client/index.js';
import { appendBounded } from './bounded.js';
import { ChannelEntry } from './channel-entry.js';

/** Buffer sizes of the React layer (how many messages the stores keep). */
export interface SignalLimits {
  /** Direct messages kept for `useDirectMessages`. @default 100 */
  directMessages?: number;
  /** Messages kept per channel for `useChannel`. @default 100 */
  channelMessages?: number;
}

/** Default buffer sizes. */
export const DEFAULT_SIGNAL_LIMITS: Required<SignalLimits> = { directMessages: 100, channelMessages: 100 };

/** What the connection store holds. */
export interface ConnectionSnapshot {
  /** The client, once the provider created (or was given) it; `null` on the server and before the first effect. */
  readonly client: Signal<Payload> | null;
  /**
   * Connection state. Before the provider's effect ran (first render, server rendering) it is `connecting`,
   * since the provider is about to connect.
   */
  readonly state: ConnectionState;
  /** The last error the client reported (refusals, connection failures, a malformed token). */
  readonly error: SignalError | undefined;
  /** My identity (from the token), once known. */
  readonly identity: string | undefined;
}

/**
 * The React layer's state outside React: one connection store, one direct-message store and a
 * reference-counted registry of channel stores, all zustand vanilla stores. A `SignalProvider` owns one
 * hub; the hub binds to a client when the provider's effect has created it.
 */
export class SignalHub {
  /** Connection state, client and last error. */
  readonly connection: StoreApi<ConnectionSnapshot>;
  /** The last direct messages (bounded by `limits.directMessages`). */
  readonly direct: StoreApi<{ readonly messages: readonly SignalMessage<Payload>[] }>;
  /** Buffer sizes in force. */
  readonly #limits: Required<SignalLimits>;
  readonly #entries = new Map<string, ChannelEntry>();
  #client: Signal<Payload> | null = null;
  #unbind: (() => void) | null = null;

  constructor(limits: SignalLimits = {}, initialClient: Signal<Payload> | null = null, identity?: string) {
    this.#limits = { ...DEFAULT_SIGNAL_LIMITS, ...limits };
    for (const [k, v] of Object.entries(this.#limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`limits.${k} must be a positive integer`);
    }
    this.connection = createStore<ConnectionSnapshot>(() => ({
      client: null,
      state: initialClient ? initialClient.state : 'connecting',
      error: undefined,
      identity: initialClient?.token.identity ?? identity,
    }));
    this.direct = createStore(() => ({ messages: [] as readonly SignalMessage<Payload>[] }));
  }

  /** The channel entry for `name`, created on first use (creating one has no side effect). */
  entry(name: string): ChannelEntry {
    let e = this.#entries.get(name);
    if (!e) {
      e = new ChannelEntry(name, this.#limits.channelMessages, (gone) => {
        if (this.#entries.get(name) === gone) this.#entries.delete(name);
      });
      if (this.#client) e.attach(this.#client);
      this.#entries.set(name, e);
    }
    return e;
  }

  /**
   * Hold `entry` for a mounted component; returns the release. An entry dropped meanwhile (its holders were
   * hidden for longer than a tick, e.g. by `<Activity>`, or the provider remounted its client) is registered again.
   */
  hold(entry: ChannelEntry, presence: boolean): () => void {
    if (!this.#entries.has(entry.name)) {
      this.#entries.set(entry.name, entry);
      if (this.#client) entry.attach(this.#client);
    }
    return entry.acquire(presence);
  }

  /** Bind to a client: mirror its state, buffer its direct messages, join every held channel. */
  attach(client: Signal<Payload>): void {
    if (this.#client === client) return;
    if (this.#client) this.detach();
    this.#client = client;
    const offs = [
      client.on('state', (state) => this.connection.setState({ state })),
      client.on('error', (error) => {
        this.connection.setState({ error });
        const ch = error.channel;
        if (ch !== undefined) this.#entries.get(ch)?.store.setState({ error });
      }),
      client.on('message', (msg) => {
        this.direct.setState({ messages: appendBounded(this.direct.getState().messages, msg, this.#limits.directMessages) });
      }),
    ];
    this.#unbind = () => {
      for (const off of offs) off();
    };
    this.connection.setState({ client, state: client.state, identity: client.token.identity });
    for (const e of this.#entries.values()) e.attach(client);
  }

  /** Unbind from the current client (channels are not left: the client is closing or owned by the app). */
  detach(): void {
    this.#unbind?.();
    this.#unbind = null;
    this.#client = null;
    for (const e of this.#entries.values()) e.detach();
    this.connection.setState({ client: null, state: 'closed' });
  }

  /** Leave every channel this hub joined, then unbind. */
  dispose(): void {
    for (const e of this.#entries.values()) e.dispose();
    this.#entries.clear();
    this.detach();
  }

  /** Record a failure that happened before any client existed (e.g. a malformed token). */
  fail(error: SignalError): void {
    this.connection.setState({ error, state: 'closed' });
  }

  /** Record an error without changing the connection state (e.g. a malformed replacement token). */
  report(error: SignalError): void {
    this.connection.setState({ error });
  }
}
