/** The types around a {@link Channel}: its events, `join()`'s options, and what it needs from its `Signal`. */
import type { AccessToken } from './access-token.js';
import type { Participant } from './participant.js';
import type { SignalError } from './errors.js';
import type { ChannelStatus, ParticipantOp, SignalMessage } from './types.js';

/** What a Channel needs from its Signal: the token (who I am) and the list it is in (left there when it goes). */
export interface ChannelHost {
  readonly token: AccessToken;
  readonly channels: Map<string, unknown>;
}

/** Events of a {@link Channel}. */
export type ChannelEvents<M extends object, S> = {
  /** A channel message (publish) or an in-channel direct message to me (then `msg.to` is set). */
  message: [msg: SignalMessage<M>, participant: Participant<S, M> | undefined];
  /**
   * A typing frame (`signal.publish {id, $typing: ms}`, see PROTOCOL.md): `from` asks to be shown typing for the next
   * `ms` milliseconds (capped at 30 s; `0`: stopped). Typing frames never arrive as `message`. A receiver usually
   * also ends someone's typing when a message from them comes, or when they leave.
   * @example ch.on('typing', (from, ms) => (ms > 0 ? show(from, ms) : hide(from)));
   */
  typing: [from: string, ms: number, participant: Participant<S, M> | undefined];
  /** A participant was added (1), updated (0: state) or removed (-1). */
  participant: [participant: Participant<S, M>, op: ParticipantOp];
  /**
   * Around a batch of roster changes (extension, PROTOCOL.md): `true` before its `participant` events, `false` after,
   * so a consumer can apply them as one update.
   */
  batch: [open: boolean];
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
