import { METHOD } from '../protocol/constants.js';
import { Emitter } from './emitter.js';
import { SignalError } from './errors.js';
import { LocalParticipant, Participant } from './participant.js';
import type { ChannelStatus, ParticipantOp, Payload, SignalMessage } from './types.js';

/** What a Channel needs from its Signal. */
export interface ChannelHost {
  readonly identity: string;
  readonly device: string;
  isOpen(): boolean;
  /** Send now, or queue while not open (reports what cannot be queued). */
  sendCall(method: string, params: Payload): void;
  /** Send now; never queued (used for state and joins, which are replayed on open). */
  sendNow(method: string, params: Payload): void;
  request(method: string, params: Payload): Promise<unknown>;
  removeChannel(name: string, ch: Channel<never, never>): void;
}

/** Events of a {@link Channel}. */
export type ChannelEvents<M extends object, S> = {
  /** A channel message (publish) or an in-channel direct message to me (then `msg.to` is set). */
  message: [msg: SignalMessage<M>, participant: Participant<S, M> | undefined];
  /** A participant was added (1), updated (0: state) or removed (-1). */
  participant: [participant: Participant<S, M>, op: ParticipantOp];
  /** Join status changed. */
  status: [status: ChannelStatus];
  /** A call about this channel was refused. */
  error: [error: SignalError];
};

/** Options of `signal.join()`. */
export interface JoinOptions {
  /** Announce me to the others and learn who is here. @default false */
  presence?: boolean;
}

/** A pub/sub channel with optional presence and per-participant state. */
export class Channel<M extends object = Payload, S = unknown> extends Emitter<ChannelEvents<M, S>> {
  /** Other participants, by endpoint address (me excluded). */
  readonly participants = new Map<string, Participant<S, M>>();
  /** Me: `me.updateState()` shares my state. */
  readonly me: LocalParticipant<S>;
  /** Resolves when the server accepted the join; rejects with its error. */
  ready: Promise<void>;
  #status: ChannelStatus = 'joining';
  #error: SignalError | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (e: SignalError) => void;
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

  constructor(
    readonly name: string,
    readonly presence: boolean,
    host: ChannelHost,
  ) {
    super();
    this.#host = host;
    this.me = new LocalParticipant<S>(host.identity, host.device, (state) => {
      if (this.#status !== 'joined' && this.#status !== 'joining') return;
      if (this.#host.isOpen()) this.#host.sendNow(METHOD.publish, { id: this.name, state });
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

  /** Publish to every other member. `id` and `from` in the payload are overwritten. */
  publish(payload: M): void {
    if (this.#status === 'left' || this.#status === 'failed') {
      throw new Error(`channel ${this.name} is ${this.#status}; join it again`);
    }
    this.#host.sendCall(METHOD.publish, { ...(payload as Payload), id: this.name });
  }

  /** Leave the channel; participants are removed (op -1). */
  leave(): void {
    if (this.#status === 'left') return;
    const wasActive = this.#status !== 'failed';
    this.#setStatus('left');
    this.#host.removeChannel(this.name, this as unknown as Channel<never, never>);
    if (wasActive && this.#host.isOpen()) this.#host.sendNow(METHOD.leave, { id: this.name });
    this.#clearParticipants();
    this.#rejectReady(new SignalError('SIGNAL_ERR_CLOSED', `left channel ${this.name}`, { channel: this.name }));
  }

  /** @internal Send the join (first time or after a reconnect), then my state. */
  _join(rejoin: boolean): void {
    if (this.#status === 'left' || this.#status === 'failed') return;
    if (rejoin) {
      this.#stale = new Set(this.participants.keys());
      this.#replayed = new Set();
      if (this.#status === 'joined') {
        this.ready = this.#newReady();
        this.#setStatus('joining');
      }
    }
    const seq = ++this.#joinSeq;
    this.#host.request(METHOD.join, { id: this.name, presence: this.presence }).then(
      (result) => {
        if (seq !== this.#joinSeq || this.#status !== 'joining') return;
        const addr = (result as { address?: unknown } | null)?.address;
        if (typeof addr === 'string') {
          const prev = this.me.id;
          if (prev !== undefined && prev !== addr) {
            this.#pastIds.push(prev);
            if (this.#pastIds.length > 8) this.#pastIds.shift();
          }
          this.me.id = addr;
        }
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
        this.#resolveReady();
      },
      (err: SignalError) => {
        if (seq !== this.#joinSeq || this.#status !== 'joining') return;
        if (err.code === 'SIGNAL_ERR_CLOSED') return; // retried on reconnect
        if (err.code === 'SIGNAL_ERR_TIMEOUT') {
          // No reply (a slow authorize hook, a lost frame): ask again; joining twice is harmless.
          if (this.#host.isOpen()) this._join(false);
          return;
        }
        this.#error = err;
        this.#setStatus('failed');
        this.#host.removeChannel(this.name, this as unknown as Channel<never, never>);
        this.#clearParticipants();
        this.#rejectReady(err);
        this.emit('error', err);
      },
    );
    if (this.me.state !== undefined) this.#host.sendNow(METHOD.publish, { id: this.name, state: this.me.state });
  }

  /** @internal */
  _onJoin(from: string): void {
    this.#stale?.delete(from);
    // My own endpoint, now or before a reconnect: the server never announces my current one, so this is a ghost of me.
    if (from === this.me.id || this.#pastIds.includes(from)) return;
    if (this.participants.has(from)) return;
    const p = new Participant<S, M>(from, this);
    this.participants.set(from, p);
    this.emit('participant', p, 1);
  }

  /** @internal */
  _onLeave(from: string): void {
    this.#removeParticipant(from);
  }

  /** @internal A state from `from` (a publish with `state`, or the server's replay). */
  _onState(from: string, state: S): void {
    // Only members announced by join/join_back have a state here: the server replays states right
    // after join_back, and a non-presence member's state would make a participant that never leaves.
    const p = this.participants.get(from);
    if (!p) return;
    this.#stale?.delete(from);
    this.#replayed?.add(from);
    if (p._setState(state)) this.emit('participant', p, 0);
  }

  /** @internal */
  _onMessage(msg: SignalMessage<M>): void {
    const p = this.participants.get(msg.from);
    p?._message(msg);
    this.emit('message', msg, p);
  }

  /** @internal The connection dropped: the join must be re-sent. */
  _onDisconnect(): void {
    if (this.#status === 'joined') {
      this.ready = this.#newReady();
      this.#setStatus('joining');
    }
  }

  /** @internal Participant.send goes through here. */
  sendTo(to: string, payload: Payload): void {
    this.#host.sendCall(METHOD.send, { ...payload, to, id: this.name });
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
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    p.catch(() => {}); // a rejection nobody awaits is reported through 'error', not as unhandled
    return p;
  }
}
