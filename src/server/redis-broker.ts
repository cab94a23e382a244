// TODO(#6): RedisBroker lands with the scale-out issue.
import type { Broker, BrokerHandlers, BrokerLink } from './broker.js';

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  url: string;
}

/** Redis pub/sub broker (not implemented yet: issue #6). */
export class RedisBroker implements Broker {
  constructor(readonly options: RedisBrokerOptions) {}
  attach(_nodeId: string, _handlers: BrokerHandlers): BrokerLink {
    throw new Error('RedisBroker is not implemented yet');
  }
}
