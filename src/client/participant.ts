import { Emitter } from './emitter.js';
import type { Payload, SignalMessage } from './types.js';

/** Events of a {@link Participant}. */
export type ParticipantEvents<S, M extends object> = {
  /** The participant's state was replaced (`prev` is the old one). */
  state: [state: S | undefined, prev: S | undefined];
  /** A channel message or an in-channel direct message from this participant. */
  message: [msg: SignalMessage<M>];
};

/** Sends a direct message in a channel's context (implemented by the Channel). */
export interface ParticipantSender {
  sendTo(to: string, payload: Payload): void;
}

/** Another member of a channel, keyed by its endpoint address. */
export class Participant<S = unknown, M extends object = Payload> extends Emitter<ParticipantEvents<S, M>> {
  /** Endpoint address `identity/device/route`. */
  declare readonly id: string;
  declare readonly identity: string;
  declare readonly device: string;
  declare readonly route: string;
  #state: S | undefined;
  readonly #sender: ParticipantSender;

  constructor(id: string, sender: ParticipantSender) {
    super();
    this.#sender = sender;
    this.id = id;
    const [identity = '', device = '', route = ''] = id.split('/');
    this.identity = identity;
    this.device = device;
    this.route = route;
  }

  /** Last state received (whole, last writer wins); `undefined` when none. */
  get state(): S | undefined {
    return this.#state;
  }

  /** Send a direct message to exactly this endpoint, in the channel's context. */
  send(payload: M): void {
    this.#sender.sendTo(this.id, payload as Payload);
  }

  /** @internal */
  _setState(state: S | undefined): boolean {
    const prev = this.#state;
    // The same state twice (the server's replay plus an old SDK's peer-to-peer copy) is no change.
    if (prev === state || (prev !== undefined && state !== undefined && sameJson(prev, state))) return false;
    this.#state = state;
    this.emit('state', state, prev);
    return true;
  }

  /** @internal */
  _message(msg: SignalMessage<M>): void {
    this.emit('message', msg);
  }

  /** @internal */
  _dispose(): void {
    this.removeAllListeners();
  }
}

/** Me in a channel: my state is kept here, shared with every other participant and restored after a reconnect. */
export class LocalParticipant<S = unknown> extends Emitter<{ state: [state: S | undefined, prev: S | undefined] }> {
  #state: S | undefined;
  /** My endpoint address once joined (the server tells it in the join reply). */
  declare id: string | undefined;
  declare readonly identity: string;
  declare readonly device: string;

  readonly #publishState: (state: S) => void;

  constructor(identity: string, device: string, publishState: (state: S) => void) {
    super();
    this.identity = identity;
    this.device = device;
    this.#publishState = publishState;
  }

  get state(): S | undefined {
    return this.#state;
  }

  /** Replace my state (whole) and share it with every participant. */
  updateState(state: S): void {
    if (state === undefined) throw new TypeError('updateState: state must not be undefined');
    const prev = this.#state;
    this.#state = state;
    this.#publishState(state);
    this.emit('state', state, prev);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
