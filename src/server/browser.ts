// The browser-safe part of the server: the transport-free core, the memory broker, token signing and
// verification (jose, WebCrypto) and the in-page transport. No `ws`, no `node:*`.
export { SignalCore, type CoreOptions, type CoreStats, type Authorize } from './core.js';
export { MemoryBroker, channelTopic, identityTopic, type Broker, type BrokerLink, type BrokerHandlers, type BrokerMessage, type RosterMember } from './broker.js';
export { signAccessToken, createVerifier, TokenError, type AuthOptions, type SignOptions, type VerifiedToken } from './auth.js';
export { createInPageServer, type InPageServer, type InPageServerOptions, type InPageSocket } from './in-page.js';
export type { Transport, OutFrame } from './session.js';
export { ServerApiError, type ServerApi, type ServerApiErrorCode, type PresenceMember, type ChannelInfo, type DisconnectOptions, type UnsubscribeOptions } from './server-api-types.js';
