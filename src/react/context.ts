'use client';
import { createContext, useContext } from './react.js';
import type { SignalHub } from './hub.js';

/** @internal The hub of the nearest SignalProvider. */
export const HubContext = createContext<SignalHub | null>(null);

/** @internal The nearest provider's hub; throws a message naming the fix outside a provider. */
export function useHub(hook = 'this hook'): SignalHub {
  const hub = useContext(HubContext);
  if (!hub) {
    throw new Error(
`react-signal-service: ${hook} was called outside <SignalProvider>. Wrap your component tree in <SignalProvider>.`,
    );
  }
  return hub;
}
