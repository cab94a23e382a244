/**
 * What the parts of `SignalCore` (direct routes, channels, roster sync) share: the limits and the broker link.
 * One object, made by the core; the link is filled in once the broker has attached.
 */
import type { Limits } from '../protocol/constants.js';
import type { BrokerLink } from './broker.js';
import type { MembershipHooks } from './membership-hooks.js';

export interface CoreContext {
  readonly limits: Limits;
  /** The broker link; `null` until attached (what happens before then is not told to other nodes). */
  link: BrokerLink | null;
  /** Resolves with the link once attached. */
  readonly linkP: Promise<BrokerLink>;
  /** Told of joins, leaves and states (webhooks); absent: nobody listens. */
  readonly hooks?: MembershipHooks;
}
