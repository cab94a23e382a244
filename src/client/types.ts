/** A JSON object payload. */
export type Payload = Record<string, unknown>;

/**
 * A message as received: the sender's payload plus the fields the server set.
 * `from` is the sender's full endpoint address `identity/device/route`.
 */
export type SignalMessage<T extends object = Payload> = T & {
  /**
   * Sender's endpoint `identity/device/route` (set by the server), or `"$server"` (`SERVER_FROM`) for a message the
   * server's API sent.
   */
  from: string;
  /** The address the sender used (direct messages). */
  to?: string;
  /** The channel (channel messages and in-channel direct messages). */
  id?: string;
};

/** Connection state. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Channel join status. */
export type ChannelStatus = 'joining' | 'joined' | 'failed' | 'left';

/** Participant change: 1 added, 0 updated, -1 removed. */
export type ParticipantOp = 1 | 0 | -1;
