import { CLIENT_ERROR, METHOD, PAST_IDS_KEPT, SERVER_FROM } from '../protocol/constants.js';
import { TYPING_KEY, TYPING_MS, typingMs } from '../protocol/typing.js';
import type { AccessToken } from './access-token.js';
import type { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { SignalError } from './errors.js';
import { LocalParticipant, Participant } from './participant.js';
import type { ChannelEvents, ChannelHost } from './channel-types.js';
import type { PresenceParams } from '../protocol/frames.js';
import type { ChannelStatus, ParticipantOp, Payload, SignalMessage } from './types.js';

export type { ChannelEvents, ChannelHost, JoinOptions } from './channel-types.js';

/** A pub/sub channel with optional presence and per-participant state. */
export class Channel<M extends object = Payload, S = unknown> extends Emitter<ChannelEvents<M, S>> {
  /** Other participants, by endpoint address (me excluded). */
  readonly participants = new Map<string, Participant<S, M>>();
  /** The channel's name. */
  declare readonly name: string;
  /** Joined with presence (announced to the others, learning who is here). */
  declare readonly presence: boolean;
  /** Me: `me.updateState()` shares my state. */
  declare readonly me: LocalParticipant<S>;
  /**
   * The current join: resolves (with nothing) once the server accepted it; by then `participants` holds the roster
   * (our server replies after the `join_back` frames and states). Rejects with the server's refusal, with
   * `SIGNAL_ERR_CLOSED` after `leave()`, or when the client closes (also for a join made while it is closed); a
   * reconnect, or `connect()` after a close, joins again with a new `ready`.
   */
  declare ready: Promise<void>;
  #status: ChannelStatus = 'joining';
  #error: SignalError | undefined;
  #reason: string | undefined;
  /** Settles `ready` (rejects it when given an error); `null` once settled. */
  #settleReady: ((err?: SignalError) => void) | null = null;
  /** During a rejoin: participants known before it that the server has not announced again yet. */
  #stale: Set<string> | null = null;
  /** During a rejoin: participants whose state the server replayed (the others have none now). */
  #replayed: Set<string> | null = null;
  /**
   * My own earlier endpoint addresses in this channel (newest last, a few kept). After a failover to another server
   * process, the dead endpoint stays in the shared roster until its TTL; it is me, so it is never a participant.
   */
  readonly #pastIds: string[] = [];
  #joinSeq = 0;

  readonly #host: ChannelHost;
  /** The Signal's connection: calls go through its outgoing queue (state and leave only while open), joins are requests. */
  readonly #conn: Connection;

  constructor(name: string, presence: boolean, host: ChannelHost, conn: Connection) {
    super();
    this.name = name;
    this.presence = presence;
    this.#host = host;
    this.#conn = conn;
    this.me = new LocalParticipant<S>(host.token.identity, host.token.device, (state) => {
      if (this.#status === 'joined' || this.#status === 'joining') conn.outbox.control(METHOD.publish, { id: this.name, state });
    });
    this.ready = this.#newReady();
  }

  get status(): ChannelStatus {
    return this.#status;
  }
  /** The last refusal of the join, when `status` is `failed`. */
  get error(): SignalError | undefined {
    return this.#error;
  }

  /**
   * Why the server removed me from this channel (`signal.unsubscribed`, sent by the server API's `unsubscribe`):
   * then `status` is `left` and the channel is not rejoined by itself. `undefined` otherwise.
   */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Publish to every other member. `id` and `from` in the payload are overwritten. */
  publish(payload: M): void {
    if (this.#status === 'left' || this.#status === 'failed') {
      throw new Error(`channel ${this.name} is ${this.#status}; join it again`);
    }
    this.#conn.outbox.call(METHOD.publish, { ...(payload as Payload), id: this.name });
  }

  /**
   * Tell the others I am typing, for the next `ms` milliseconds (`0`: I stopped). Send it at most every `ms / 2`
   * however fast keys come (the React layer's `useTyping` does).
   */
  sendTyping(ms: number = TYPING_MS): void {
    this.publish({ [TYPING_KEY]: ms } as unknown as M);
  }

  /** Leave the channel; participants are removed (op -1). */
  leave(): void {
    if (this.#status === 'left') return;
    const wasActive = this.#status !== 'failed';
    this.#setStatus('left');
    this.#remove();
    if (wasActive) this.#conn.outbox.control(METHOD.leave, { id: this.name });
    this.#clearParticipants();
    this.#settleReady?.(new SignalError(CLIENT_ERROR.CLOSED, `left channel ${this.name}`, { channel: this.name }));
  }

  /** @internal Send the join (first time or after a reconnect), then my state. */
  _join(rejoin: boolean): void {
    if (this.#status === 'left' || this.#status === 'failed') return;
    if (rejoin) {
      this.#stale = new Set(this.participants.keys());
      this.#replayed = new Set();
      this._onDisconnect();
    }
    if (this.#settleReady === null) this.ready = this.#newReady(); // the last one was refused when the client closed
    const seq = ++this.#joinSeq;
    // With presence, ask for batched roster changes (extension; a server without it ignores `batch`).
    this.#conn.request(METHOD.join, this.presence ? { id: this.name, presence: true, batch: true } : { id: this.name, presence: false }).then(
      (result) => {
        if (seq !== this.#joinSeq || this.#status !== 'joining') return;
        this.#setMe((result as { address?: unknown } | null)?.address);
        const gone = this.#stale;
        const replayed = this.#replayed;
        this.#stale = null;
        this.#replayed = null;
        if (gone) for (const id of gone) this.#removeParticipant(id);
        // Still here but no state replayed: their state was cleared meanwhile (they left and joined again
        // while we were away), so the one we hold is stale.
        if (replayed) {
          for (const p of this.participants.values()) {
            if (!replayed.has(p.id) && p._setState(undefined)) this.emit('participant', p, 0);
          }
        }
        this.#setStatus('joined');
        this.#settleReady?.();
      },
      (err: SignalError) => {
        if (seq !== this.#joinSeq || this.#status !== 'joining') return;
        if (err.code === CLIENT_ERROR.CLOSED) return; // retried on reconnect
        if (err.code === CLIENT_ERROR.TIMEOUT) {
          // No reply (a slow authorize hook, a lost frame): ask again; joining twice is harmless.
          if (this.#conn.phase.name === 'open') this._join(false);
          return;
        }
        this.#error = err;
        this.#setStatus('failed');
        this.#remove();
        this.#clearParticipants();
        this.#settleReady?.(err);
        this.emit('error', err);
      },
    );
    if (this.me.state !== undefined) this.#conn.outbox.control(METHOD.publish, { id: this.name, state: this.me.state });
  }

  /**
   * @internal A notification about this channel (`params.id` is its name, `params.from` the sender): the channel
   * decides what it is: someone joined or left, a state, a typing frame, or a message.
   */
  _onFrame(method: string, params: Payload & { from: string }): void {
    const from = params.from;
    switch (method) {
      case METHOD.join:
      case METHOD.joinBack:
        return this.#onJoin(from);
      case METHOD.leave:
        return this.#removeParticipant(from);
      case METHOD.unsubscribed:
        if (from !== SERVER_FROM || this.#status === 'left') return;
        this.#reason = typeof params.reason === 'string' ? params.reason : 'removed by the server';
        this.#setStatus('left');
        this.#remove();
        this.#clearParticipants();
        this.#settleReady?.(new SignalError(CLIENT_ERROR.CLOSED, `removed from channel ${this.name}: ${this.#reason}`, { channel: this.name }));
        return;
      case METHOD.presence: {
        const { self, members = [], left = [] } = params as unknown as PresenceParams;
        if (self !== undefined) return this.#setMe(self);
        this.emit('batch', true);
        // Leaves, joins, then states: the per-member form's order (an endpoint replaced by a reconnect leaves before
        // the new one joins; join_back frames come before the state replay).
        for (const id of left) this.#removeParticipant(id);
        for (const [id] of members) this.#onJoin(id);
        for (const [id, state] of members) this.#onState(id, state as S);
        return void this.emit('batch', false);
      }
      case METHOD.publish:
      case METHOD.send: {
        if ('state' in params) return this.#onState(from, params.state as S);
        const ms = typingMs(params);
        if (ms !== undefined) {
          this.emit('typing', from, ms, this.participants.get(from));
          return;
        }
        const msg = params as SignalMessage<M>;
        const p = this.participants.get(from);
        p?._message(msg);
        this.emit('message', msg, p);
      }
    }
  }

  /** My endpoint address (a join reply, or a batch join's `self`); the one before goes to my past ones. */
  #setMe(addr: unknown): void {
    const prev = this.me.id;
    if (typeof addr !== 'string' || prev === addr) return;
    if (prev !== undefined) {
      this.#pastIds.push(prev);
      if (this.#pastIds.length > PAST_IDS_KEPT) this.#pastIds.shift();
    }
    this.me.id = addr;
  }

  #onJoin(from: string): void {
    this.#stale?.delete(from);
    // My own endpoint, now or before a reconnect: the server never announces my current one, so this is a ghost of me.
    if (from === this.me.id || this.#pastIds.includes(from)) return;
    if (this.participants.has(from)) return;
    const p = new Participant<S, M>(from, this);
    this.participants.set(from, p);
    this.emit('participant', p, 1);
  }

  /** A state from `from` (a publish with `state`, or the server's replay). */
  #onState(from: string, state: S): void {
    // Only members announced by join/join_back have a state here: the server replays states right
    // after join_back, and a non-presence member's state would make a participant that never leaves.
    const p = this.participants.get(from);
    if (!p) return;
    // Not proof of presence during a rejoin (only join/join_back/a batch is): a member may publish, then leave before
    // the roster reaches me, and its leave is then no frame of its own (a batch snapshot leaves it out).
    this.#replayed?.add(from);
    if (p._setState(state)) this.emit('participant', p, 0);
  }

  /** @internal The connection dropped: the join must be re-sent. */
  _onDisconnect(): void {
    if (this.#status === 'joined') {
      this.ready = this.#newReady();
      this.#setStatus('joining');
    }
  }

  /** @internal The client closed (`why`): the join waiting now fails; `connect()` joins again with a new `ready`. */
  _onClosed(why: string): void {
    if (this.#status === 'joining') this.#settleReady?.(new SignalError(CLIENT_ERROR.CLOSED, why, { channel: this.name }));
  }

  /** @internal Participant.send goes through here. */
  sendTo(to: string, payload: Payload): void {
    this.#conn.outbox.call(METHOD.send, { ...payload, to, id: this.name });
  }

  /** Out of the Signal's channels (when it is still this one there). */
  #remove(): void {
    const all = this.#host.channels;
    if (all.get(this.name) === this) all.delete(this.name);
  }

  #removeParticipant(id: string): void {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    this.emit('participant', p, -1);
    p._dispose();
  }

  #clearParticipants(): void {
    for (const id of [...this.participants.keys()]) this.#removeParticipant(id);
    this.#stale = null;
    this.#replayed = null;
  }

  #setStatus(s: ChannelStatus): void {
    if (this.#status === s) return;
    this.#status = s;
    this.emit('status', s);
  }

  #newReady(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.#settleReady = (err) => {
        this.#settleReady = null;
        if (err) reject(err);
        else resolve();
      };
    });
    p.catch(() => {}); // a rejection nobody awaits is reported through 'error', not as unhandled
    return p;
  }
}
