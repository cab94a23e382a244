'use client';
import type { ConnectionState, Payload, Signal, SignalError } from '../client/index.js';
import { useHub } from './context.js';
import type { ConnectionSnapshot } from './hub.js';
import { useStoreSelector } from './use-store.js';

/**
 * The provider's client, or `null` until the provider's effect created it (first render, server rendering).
 * Throws outside a `SignalProvider`.
 */
export function useSignal<M extends object = Payload>(): Signal<M> | null {
  const hub = useHub('useSignal()');
  return useStoreSelector(hub.connection, (s) => s.client) as Signal<M> | null;
}

/** The connection state (`connecting | open | reconnecting | closed`); re-renders only when it changes. */
export function useConnectionState(): ConnectionState {
  return useStoreSelector(useHub('useConnectionState()').connection, (s) => s.state);
}

/** The last error the client reported (a refusal, a connection failure, a malformed token), or `undefined`. */
export function useConnectionError(): SignalError | undefined {
  return useStoreSelector(useHub('useConnectionError()').connection, (s) => s.error);
}

/** My identity (from the provider's token), once the client exists. */
export function useIdentity(): string | undefined {
  return useStoreSelector(useHub('useIdentity()').connection, (s) => s.identity);
}

const whole = (s: ConnectionSnapshot): ConnectionSnapshot => s;

/** @internal The whole connection snapshot (client, state, error, identity) in one subscription, for the components. */
export function useConnection(): ConnectionSnapshot {
  return useStoreSelector(useHub('useConnection()').connection, whole);
}
