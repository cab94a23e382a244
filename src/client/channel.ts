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
  private st: ChannelStatus = 'joining';
  private er: SignalError | undefined;
  private rr!: () => void;
  private rj!: (e: SignalError) => void;
  private sl: Set<string> | null = null;
  private js = 0;

  constructor(
    readonly name: string,
    readonly presence: boolean,
    private readonly h: ChannelHost,
  ) {
    super();
    this.me = new LocalParticipant<S>(h.identity, h.device, (state) => {
      if (this.st !== 'joined' && this.st !== 'joining') return;
      if (this.h.isOpen()) this.h.sendNow(METHOD.publish, { id: this.name, state });
    });
    this.ready = this.nr();
  }

  get status(): ChannelStatus {
    return this.st;
  }
  /** The last refusal of the join, when `status` is `failed`. */
  get error(): SignalError | undefined {
    return this.er;
  }

  /** Publish to every other member. `id` and `from` in the payload are overwritten. */
  publish(payload: M): void {
    if (this.st === 'left' || this.st === 'failed') {
      throw new Error(`channel ${this.name} is ${this.st}; join it again`);
    }
    this.h.sendCall(METHOD.publish, { ...(payload as Payload), id: this.name });
  }

  /** Leave the channel; participants are removed (op -1). */
  leave(): void {
    if (this.st === 'left') return;
    const wasActive = this.st !== 'failed';
    this.ss('left');
    this.h.removeChannel(this.name, this as unknown as Channel<never, never>);
    if (wasActive && this.h.isOpen()) this.h.sendNow(METHOD.leave, { id: this.name });
    this.cp();
    this.rj(new SignalError('SIGNAL_ERR_CLOSED', `left channel ${this.name}`, { channel: this.name }));
  }

  /** @internal Send the join (first time or after a reconnect), then my state. */
  _join(rejoin: boolean): void {
    if (this.st === 'left' || this.st === 'failed') return;
    if (rejoin) {
      this.sl = new Set(this.participants.keys());
      if (this.st === 'joined') {
        this.ready = this.nr();
        this.ss('joining');
      }
    }
    const seq = ++this.js;
    this.h.request(METHOD.join, { id: this.name, presence: this.presence }).then(
      (result) => {
        if (seq !== this.js || this.st !== 'joining') return;
        const addr = (result as { address?: unknown } | null)?.address;
        if (typeof addr === 'string') this.me.id = addr;
        const gone = this.sl;
        this.sl = null;
        if (gone) for (const id of gone) this.rm(id);
        this.ss('joined');
        this.rr();
      },
      (err: SignalError) => {
        if (seq !== this.js || this.st !== 'joining') return;
        if (err.code === 'SIGNAL_ERR_CLOSED') return; // retried on reconnect
        if (err.code === 'SIGNAL_ERR_TIMEOUT') {
          // No reply (a slow authorize hook, a lost frame): ask again; joining twice is harmless.
          if (this.h.isOpen()) this._join(false);
          return;
        }
        this.er = err;
        this.ss('failed');
        this.h.removeChannel(this.name, this as unknown as Channel<never, never>);
        this.cp();
        this.rj(err);
        this.emit('error', err);
      },
    );
    if (this.me.state !== undefined) this.h.sendNow(METHOD.publish, { id: this.name, state: this.me.state });
  }

  /** @internal */
  _onJoin(from: string): void {
    this.sl?.delete(from);
    if (this.participants.has(from)) return;
    const p = new Participant<S, M>(from, this);
    this.participants.set(from, p);
    this.emit('participant', p, 1);
  }

  /** @internal */
  _onLeave(from: string): void {
    this.rm(from);
  }

  /** @internal A state from `from` (a publish with `state`, or the server's replay). */
  _onState(from: string, state: S): void {
    // Only members announced by join/join_back have a state here: the server replays states right
    // after join_back, and a non-presence member's state would make a participant that never leaves.
    const p = this.participants.get(from);
    if (!p) return;
    this.sl?.delete(from);
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
    if (this.st === 'joined') {
      this.ready = this.nr();
      this.ss('joining');
    }
  }

  /** @internal Participant.send goes through here. */
  sendTo(to: string, payload: Payload): void {
    this.h.sendCall(METHOD.send, { ...payload, to, id: this.name });
  }

  private rm(id: string): void {
    const p = this.participants.get(id);
    if (!p) return;
    this.participants.delete(id);
    this.emit('participant', p, -1);
    p._dispose();
  }

  private cp(): void {
    for (const id of [...this.participants.keys()]) this.rm(id);
    this.sl = null;
  }

  private ss(s: ChannelStatus): void {
    if (this.st === s) return;
    this.st = s;
    this.emit('status', s);
  }

  private nr(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.rr = resolve;
      this.rj = reject;
    });
    p.catch(() => {}); // a rejection nobody awaits is reported through 'error', not as unhandled
    return p;
  }
}
