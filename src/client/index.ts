export { Signal, urlFromToken, type SignalOptions, type SignalEvents, type WebSocketLike, type WebSocketConstructor } from './signal.js';
export { AccessToken, EXPIRY_MARGIN_MS, type AccessTokenEvents } from './access-token.js';
export { Channel, type ChannelEvents, type JoinOptions } from './channel.js';
export { Participant, LocalParticipant, type ParticipantEvents } from './participant.js';
export { SignalError } from './errors.js';
export { Emitter, type EventMap } from './emitter.js';
export { exponentialBackoff, Timer, type BackoffOptions, type DelayFor } from './backoff.js';
export type { ConnectionState, ChannelStatus, ParticipantOp, Payload, SignalMessage } from './types.js';
export { ERROR, ERROR_CODE, CLIENT_ERROR, CLOSE, SERVER_FROM, type SignalErrorCode } from '../protocol/constants.js';
