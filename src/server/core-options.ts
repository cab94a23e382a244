/** The options and stats of `SignalCore` (core.ts), apart so the options' documentation has a file of its own. */
import type { DEFAULT_LIMITS, Limits } from '../protocol/constants.js';
import type { VerifiedToken } from './auth.js';
import type { Authorize } from './authorize.js';
import type { Broker } from './broker.js';
import type { MembershipHooks } from './membership-hooks.js';
import type { CoreObserver, Counters } from './observer.js';

/** Options of the transport-free core. */
export interface CoreOptions {
  /** @default a new MemoryBroker */
  broker?: Broker;
  /** Overrides of {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  authorize?: Authorize;
  /**
   * Verify a token handed in on an open connection (`signal.refresh`, extension). The Node and in-page servers pass
   * their own verifier; without it a refresh is refused (-32601) and connections are closed at their token's `exp`.
   */
  verifyToken?: (jwt: string) => Promise<VerifiedToken>;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /** Hooks for logs and metrics (observer.ts). @default none */
  observer?: CoreObserver;
  /** Counters bumped per frame for metrics; `null` or absent: nothing is counted. */
  counters?: Counters | null;
  /** Told of every join, leave and state (webhooks use it; see membership-hooks.ts). */
  membership?: MembershipHooks;
}

/** Counters returned by `stats()`. */
export interface CoreStats {
  nodeId: string;
  connections: number;
  channels: number;
}
