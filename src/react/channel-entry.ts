import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Channel } from '../client/channel.js';
import { reportListenerError } from '../client/emitter.js';
import { SignalError } from '../client/errors.js';
import type { Participant } from '../client/participant.js';
import type { Signal } from '../client/signal.js';
import type { ChannelStatus, Payload, SignalMessage } from '../client/types.js';

/**
 * An immutable snapshot of another participant. A new object replaces it only when that participant's
 * state changes, so `Object.is` on a view (or on `view.state`) tells whether anything changed.
 */
export interface ParticipantView<S = unknown, M extends object = Payload> {
  /** Endpoint address `identity/device/route`. */
  readonly id: string;
  /** The user (first part of the address). */
  readonly identity: string;
  /** The device (second part of the address). */
  readonly device: string;
  /** Last state received; `undefined` when none. */
  readonly state: S | undefined;
  /** The live client object (for `participant.send(...)`). */
  readonly participant: Participant<S, M>;
}

/** What the per-channel zustand store holds. */
export interface ChannelSnapshot<M extends object = Payload, S = unknown> {
  /** The channel name. */
  readonly name: string;
  /** Join status; `joining` until the provider's client exists and the server accepted the join. */
  readonly status: ChannelStatus;
  /** The last refusal about this channel (join refused, publish refused, …). */
  readonly error: SignalError | undefined;
  /** The last channel messages, oldest first (bounded by the provider's `limits.channelMessages`). */
  readonly messages: readonly SignalMessage<M>[];
  /** Other participants (me excluded), in join order. Replaced on membership or state change. */
  readonly participants: readonly ParticipantView<S, M>[];
  /** The same views by endpoint address. */
  readonly byId: ReadonlyMap<string, ParticipantView<S, M>>;
  /** My own state in this channel. */
  readonly myState: S | undefined;
  /** Endpoint addresses of the participants typing now. */
  readonly typing: readonly string[];
  /** The client's Channel, once joined (null before the provider connected). */
  readonly channel: Channel<M, S> | null;
}

/** The payload key of the typing frame: `signal.publish {id, $typing: ttlMs}` (0 = stopped). */
export const TYPING_KEY = '$typing';
/** Longest time a typing frame may keep someone "typing", whatever the sender asked. */
const MAX_TYPING_TTL = 30_000;

type AnyChannel = Channel<Payload, unknown>;
type Listener = (msg: SignalMessage<Payload>, p: Participant<unknown, Payload> | undefined) => void;

/**
 * One channel as the React layer sees it: a zustand vanilla store fed by the client's Channel events,
 * a reference count of the components that use it (first acquire joins, last release leaves), and
 * the typing bookkeeping. No React in here.
 */
export class ChannelEntry {
  /** The channel's zustand vanilla store. */
  readonly store: StoreApi<ChannelSnapshot<Payload, unknown>>;
  #refs = 0;
  #presenceRefs = 0;
  #client: Signal<Payload> | null = null;
  #channel: AnyChannel | null = null;
  #ownsChannel = false;
  #unbind: (() => void) | null = null;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #typingSentAt = 0;
  #typingTtl = 0;
  #pendingState: { value: unknown } | null = null;
  readonly #listeners = new Set<Listener>();

  readonly #messageLimit: number;
  readonly #onEmpty: (entry: ChannelEntry) => void;

  constructor(
    readonly name: string,
    messageLimit: number,
    onEmpty: (entry: ChannelEntry) => void,
  ) {
    this.#messageLimit = messageLimit;
    this.#onEmpty = onEmpty;
    this.store = createStore<ChannelSnapshot<Payload, unknown>>(() => ({
      name,
      status: 'joining',
      error: undefined,
      messages: [],
      participants: [],
      byId: new Map(),
      myState: undefined,
      typing: [],
      channel: null,
    }));
  }

  /** Hold the channel (joins when the first holder comes and a client is attached). Returns the release. */
  acquire(presence: boolean): () => void {
    if (this.#releaseTimer !== undefined) {
      clearTimeout(this.#releaseTimer);
      this.#releaseTimer = undefined;
    }
    this.#refs++;
    if (presence) this.#presenceRefs++;
    if (this.#client) {
      if (!this.#channel) this.#join();
      else if (presence && !this.#channel.presence && this.#ownsChannel && this.#channel.status !== 'failed') {
        // A presence hook arrived on a channel joined without presence: rejoin with it.
        this.#leaveChannel();
        this.#join();
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#refs--;
      if (presence) this.#presenceRefs--;
      if (this.#refs > 0) return;
      // Deferred so that StrictMode's unmount + remount (or a component moving) does not leave and rejoin.
      this.#releaseTimer = setTimeout(() => {
        this.#releaseTimer = undefined;
        if (this.#refs > 0) return;
        this.#leaveChannel();
        this.#onEmpty(this);
      }, 0);
    };
  }

  /** Bind to a client (joins at once when held). */
  attach(client: Signal<Payload>): void {
    if (this.#client === client) return;
    if (this.#client) this.detach();
    this.#client = client;
    if (this.#refs > 0) this.#join();
  }

  /** Unbind from the client without leaving (the client is going away). My state is kept and re-applied. */
  detach(): void {
    const ch = this.#unbindChannel();
    if (ch?.me.state !== undefined) this.#pendingState = { value: ch.me.state };
    this.#client = null;
    this.#showEmpty('joining');
  }

  /** Leave now and forget everything (provider unmount). */
  dispose(): void {
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    this.#leaveChannel();
    this.#client = null;
  }

  /** Listen to channel messages (typing frames excluded). */
  onMessage(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Publish; returns false instead of throwing when the channel is not usable (and records why, unless an
   * error, such as the join's refusal, is already shown).
   */
  publish(payload: Payload): boolean {
    const ch = this.#channel;
    if (!ch || ch.status === 'left' || ch.status === 'failed') {
      if (this.store.getState().error) return false;
      const why = `channel ${this.name} is ${ch ? ch.status : 'not joined yet'}`;
      this.store.setState({ error: new SignalError('SIGNAL_ERR_CLOSED', `publish not sent: ${why}`, { channel: this.name, payload }) });
      return false;
    }
    ch.publish(payload);
    return true;
  }

  /** Replace my state: applied now when joined, or as soon as the channel is joined. */
  setMyState(state: unknown): void {
    const ch = this.#channel;
    if (ch && ch.status !== 'left' && ch.status !== 'failed') ch.me.updateState(state);
    else {
      this.#pendingState = { value: state };
      this.store.setState({ myState: state });
    }
  }

  /** Send a typing frame unless one went out less than `interval` ms ago. */
  notifyTyping(ttl: number, interval: number, now = Date.now()): void {
    const ch = this.#channel;
    if (!ch || ch.status !== 'joined') return;
    if (this.#typingSentAt !== 0 && now - this.#typingSentAt < interval) return;
    this.#typingSentAt = now;
    this.#typingTtl = ttl;
    ch.publish({ [TYPING_KEY]: ttl });
  }

  /** Tell the others I stopped typing (only when a typing frame is still in force). */
  stopTyping(now = Date.now()): void {
    const active = this.#typingSentAt !== 0 && now - this.#typingSentAt < this.#typingTtl;
    this.#typingSentAt = 0;
    const ch = this.#channel;
    if (active && ch && ch.status === 'joined') ch.publish({ [TYPING_KEY]: 0 });
  }

  /** Record an error about this channel (from the client's `error` event). */
  setError(err: SignalError): void {
    this.store.setState({ error: err });
  }

  // ---- internals ----

  #join(): void {
    const client = this.#client!;
    const existed = client.channels.get(this.name);
    let ch: AnyChannel;
    try {
      ch = client.join(this.name, { presence: this.#presenceRefs > 0 });
    } catch (e) {
      const err = new SignalError('SIGNAL_ERR_PROTOCOL', (e as Error).message, { channel: this.name });
      this.store.setState({ status: 'failed', error: err });
      return;
    }
    this.#channel = ch;
    this.#ownsChannel = !existed;
    this.#bind(ch);
    const pending = this.#pendingState;
    this.#pendingState = null;
    if (pending && ch.status !== 'failed') ch.me.updateState(pending.value);
  }

  #leaveChannel(): void {
    const ch = this.#unbindChannel();
    this.#typingSentAt = 0;
    if (ch && this.#ownsChannel) ch.leave();
    this.#showEmpty('left');
  }

  /** Stop listening to the bound channel and forget it, and who was typing there. Returns it. */
  #unbindChannel(): AnyChannel | null {
    const ch = this.#channel;
    this.#unbind?.();
    this.#unbind = null;
    this.#channel = null;
    for (const t of this.#typingTimers.values()) clearTimeout(t);
    this.#typingTimers.clear();
    return ch;
  }

  /** Show no channel and nobody in it: `joining` (until a client is attached again) or `left`. */
  #showEmpty(status: 'joining' | 'left'): void {
    this.store.setState({ status, participants: [], byId: new Map(), typing: [], channel: null });
  }

  #bind(ch: AnyChannel): void {
    const views = new Map<string, ParticipantView>();
    for (const p of ch.participants.values()) views.set(p.id, viewOf(p));
    const publishViews = (): void => {
      this.store.setState({ participants: [...views.values()], byId: new Map(views) });
    };
    const offs = [
      ch.on('status', (status) => {
        this.store.setState(status === 'failed' ? { status, error: ch.error } : status === 'joined' ? { status, error: undefined } : { status });
      }),
      ch.on('error', (error) => this.store.setState({ error })),
      ch.on('participant', (p, op) => {
        if (op === -1) {
          views.delete(p.id);
          this.#removeTypist(p.id);
        } else views.set(p.id, viewOf(p));
        publishViews();
      }),
      ch.on('message', (msg, p) => this.#onChannelMessage(msg, p)),
      ch.me.on('state', (state) => this.store.setState({ myState: state })),
    ];
    this.#unbind = () => {
      for (const off of offs) off();
    };
    this.store.setState({
      status: ch.status,
      error: ch.error,
      participants: [...views.values()],
      byId: new Map(views),
      myState: ch.me.state,
      channel: ch,
    });
  }

  #onChannelMessage(msg: SignalMessage<Payload>, p: Participant<unknown, Payload> | undefined): void {
    const ttl = (msg as Record<string, unknown>)[TYPING_KEY];
    if (typeof ttl === 'number' && msg.to === undefined) {
      this.#onTyping(msg.from, ttl);
      return;
    }
    this.#removeTypist(msg.from); // a message ends "typing"
    this.store.setState({ messages: appendBounded(this.store.getState().messages, msg, this.#messageLimit) });
    for (const fn of [...this.#listeners]) {
      try {
        fn(msg, p);
      } catch (e) {
        reportListenerError(e, 'an onMessage listener');
      }
    }
  }

  #onTyping(from: string, ttl: number): void {
    const old = this.#typingTimers.get(from);
    if (old !== undefined) clearTimeout(old);
    this.#typingTimers.delete(from);
    if (!(ttl > 0) || !this.#channel?.participants.has(from)) {
      this.#removeTypist(from);
      return;
    }
    this.#typingTimers.set(from, setTimeout(() => this.#removeTypist(from), Math.min(ttl, MAX_TYPING_TTL)));
    const typing = this.store.getState().typing;
    if (!typing.includes(from)) this.store.setState({ typing: [...typing, from] });
  }

  #removeTypist(from: string): void {
    const t = this.#typingTimers.get(from);
    if (t !== undefined) clearTimeout(t);
    this.#typingTimers.delete(from);
    const typing = this.store.getState().typing;
    if (typing.includes(from)) this.store.setState({ typing: typing.filter((id) => id !== from) });
  }
}

function viewOf(p: Participant<unknown, Payload>): ParticipantView {
  return { id: p.id, identity: p.identity, device: p.device, state: p.state, participant: p };
}

/** @internal `list` plus `item` at the end, keeping the last `max` (a new array). */
export function appendBounded<T>(list: readonly T[], item: T, max: number): T[] {
  const next = list.slice(Math.max(0, list.length - max + 1));
  next.push(item);
  return next;
}
