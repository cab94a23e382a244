import { CLIENT_ERROR, Emitter, SignalError } from '../client/index.js';
import type { Channel, Participant, Payload, Signal, SignalMessage } from '../client/index.js';
import { bindChannel } from './channel-binding.js';
import { createChannelStore, showEmpty, type ChannelStore } from './channel-store.js';
import { typingStore, type TypingStore } from './typing-store.js';

type AnyChannel = Channel<Payload, unknown>;

/** Events of a {@link ChannelEntry}. */
export type ChannelEntryEvents = {
  /** A channel message (typing frames excluded), as `useChannel`'s `onMessage` receives it. */
  message: [msg: SignalMessage<Payload>, participant: Participant<unknown, Payload> | undefined];
};

/**
 * One channel as the React layer sees it: a zustand vanilla store (channel-store.ts) fed by the client's Channel
 * (channel-binding.ts), a reference count of the components that use it (first acquire joins, last release leaves),
 * who types and my typing frames (typing-store.ts). Emits `message` for `useChannel`'s `onMessage`. No React in here.
 */
export class ChannelEntry extends Emitter<ChannelEntryEvents> {
  /** The channel's zustand vanilla store. */
  readonly store: ChannelStore;
  #refs = 0;
  #presenceRefs = 0;
  #client: Signal<Payload> | null = null;
  #channel: AnyChannel | null = null;
  #ownsChannel = false;
  #unbind: (() => void) | null = null;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingState: { value: unknown } | null = null;
  /** Who types here, and my own typing frames (typing-store.ts). */
  readonly typing: TypingStore;

  readonly #messageLimit: number;
  readonly #onEmpty: (entry: ChannelEntry) => void;

  constructor(
    readonly name: string,
    messageLimit: number,
    onEmpty: (entry: ChannelEntry) => void,
  ) {
    super();
    this.#messageLimit = messageLimit;
    this.#onEmpty = onEmpty;
    this.store = createChannelStore(name);
    this.typing = typingStore(this.store, () => this.#channel);
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
    showEmpty(this.store, 'joining');
  }

  /** Leave now and forget everything (provider unmount). */
  dispose(): void {
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    this.#leaveChannel();
    this.#client = null;
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
      this.store.setState({ error: new SignalError(CLIENT_ERROR.CLOSED, `publish not sent: ${why}`, { channel: this.name, payload }) });
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

  // ---- internals ----

  #join(): void {
    const client = this.#client!;
    const existed = client.channels.get(this.name);
    let ch: AnyChannel;
    try {
      ch = client.join(this.name, { presence: this.#presenceRefs > 0 });
    } catch (e) {
      const err = new SignalError(CLIENT_ERROR.PROTOCOL, (e as Error).message, { channel: this.name });
      this.store.setState({ status: 'failed', error: err });
      return;
    }
    this.#channel = ch;
    this.#ownsChannel = !existed;
    this.#unbind = bindChannel(ch, this.store, this.typing, this.#messageLimit, (msg, p) => this.emit('message', msg, p));
    const pending = this.#pendingState;
    this.#pendingState = null;
    if (pending && ch.status !== 'failed') ch.me.updateState(pending.value);
  }

  #leaveChannel(): void {
    const ch = this.#unbindChannel();
    this.typing.reset();
    if (ch && this.#ownsChannel) ch.leave();
    showEmpty(this.store, 'left');
  }

  /** Stop listening to the bound channel and forget it, and who was typing there. Returns it. */
  #unbindChannel(): AnyChannel | null {
    const ch = this.#channel;
    this.#unbind?.();
    this.#unbind = null;
    this.#channel = null;
    this.typing.clear();
    return ch;
  }
}
