export { createSignalServer, type SignalServer, type SignalServerOptions, type SignalServerStats } from './node-server.js';
export { signAccessToken, createVerifier, TokenError, type AuthOptions, type SignOptions, type VerifiedToken } from './auth.js';
export { MemoryBroker, channelTopic, identityTopic, type Broker, type BrokerLink, type BrokerHandlers, type BrokerMessage, type RosterMember } from './broker.js';
export { RedisBroker, type RedisBrokerOptions } from './redis-broker.js';
export { SignalCore, type CoreOptions, type CoreStats, type Authorize } from './core.js';
export type { Transport, OutFrame } from './session.js';
export { verifyWebhook, type WebhookOptions, type WebhookEvent, type WebhookEventType, type WebhookEventData, type WebhookPayload, type LeaveReason, type DeliveryOptions, type EndpointStats, type VerifyWebhookOptions, type VerifyWebhookResult } from './webhooks/index.js';
