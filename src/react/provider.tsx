'use client';
import type { ReactNode } from 'react';
import { useEffect, useRef, useState } from './react.js';
import { AccessToken, CLIENT_ERROR, Signal, SignalError, type Payload, type SignalOptions } from '../client/index.js';
import { HubContext } from './context.js';
import { SignalHub, type SignalLimits } from './hub.js';
import { subjectOf } from './subject.js';

/** Props of {@link SignalProvider}. */
export interface SignalProviderProps {
  /**
   * The access token: a JWT string or an `AccessToken`. A new value for the same `identity/device` swaps the
   * token in place (`AccessToken.update` for strings, `Signal.setToken` for objects): the connection, channels
   * and state are kept and the next (re)connect uses it. A token for another `identity/device` replaces the
   * client (a new connection; held channels are joined again and my state re-applied).
   */
  token?: string | AccessToken;
  /** Client options, read once when the client is created (`WebSocket`, `reconnect`, `url`, …). */
  options?: SignalOptions;
  /** An existing client owned by the app: the provider neither connects nor closes it. Takes precedence over `token`. */
  client?: Signal<Payload>;
  /** How many messages the stores keep (read once). @default { directMessages: 100, channelMessages: 100 } */
  limits?: SignalLimits;
  /** The tree that uses the hooks. */
  children?: ReactNode;
}

interface Holder {
  key: string;
  client: Signal<Payload> | undefined;
  signal: Signal<Payload> | null;
  ownToken: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** `final`: the provider is going away (leave channels); otherwise only the client is replaced. */
  destroy(final: boolean): void;
}

/**
 * Owns one connection and the stores every hook reads. The client is created and connected in an effect
 * (never during render, never on the server) and closed when the provider unmounts. StrictMode's
 * unmount + remount reuses the same client (the teardown is deferred by a tick), so there is never a
 * second connection nor a duplicate join.
 *
 * @example
 * <SignalProvider token={jwt} options={{ reconnect: { maxDelay: 10_000 } }}>
 *   <App />
 * </SignalProvider>
 */
export function SignalProvider(props: SignalProviderProps): ReactNode {
  const { token, client, options, limits, children } = props;
  if (!client && token === undefined) throw new TypeError('SignalProvider needs a `token` (JWT or AccessToken) or a `client`');
  const sub = client || token === undefined ? undefined : subjectOf(token);
  const [hub] = useState(() => new SignalHub(limits, client ?? null, sub?.split('/')[0]));
  const holder = useRef<Holder | null>(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const key = client ? 'client' : (sub ?? (typeof token === 'string' ? token : 'token'));

  useEffect(() => {
    const h = holder.current;
    if (h && h.key === key && h.client === client && h.timer !== undefined) {
      clearTimeout(h.timer); // StrictMode remount (or a quick re-render cycle): keep the same client
      h.timer = undefined;
    } else {
      if (h) {
        if (h.timer !== undefined) clearTimeout(h.timer);
        h.destroy(false);
      }
      holder.current = create(hub, key, client, token!, optionsRef.current);
    }
    const cur = holder.current!;
    return () => {
      cur.timer = setTimeout(() => {
        cur.timer = undefined;
        cur.destroy(true);
        if (holder.current === cur) holder.current = null;
      }, 0);
    };
    // `token` is handled by the effect below unless its identity/device changed (then `key` changed).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hub, key, client]);

  useEffect(() => {
    const cur = holder.current;
    const sig = cur?.signal;
    if (!cur || !sig || cur.client || token === undefined) return;
    try {
      if (typeof token === 'string') {
        if (sig.token.jwt === token) return;
        if (cur.ownToken) sig.token.update(token);
        else {
          sig.setToken(token);
          cur.ownToken = true;
        }
      } else if (token !== sig.token) {
        const old = sig.token;
        sig.setToken(token);
        if (cur.ownToken) old.dispose(); // the AccessToken we made from a string: stop its expiry timer
        cur.ownToken = false;
      }
    } catch (e) {
      hub.report(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message)); // the current token stays in use
    }
  }, [hub, token]);

  return <HubContext.Provider value={hub}>{children}</HubContext.Provider>;
}

function create(
  hub: SignalHub,
  key: string,
  client: Signal<Payload> | undefined,
  token: string | AccessToken,
  options: SignalOptions | undefined,
): Holder {
  const h: Holder = { key, client, signal: client ?? null, ownToken: false, timer: undefined, destroy: (final) => (final ? hub.dispose() : hub.detach()) };
  if (client) {
    hub.attach(client);
    return h;
  }
  let at: AccessToken;
  try {
    at = typeof token === 'string' ? new AccessToken(token) : token;
  } catch (e) {
    hub.fail(new SignalError(CLIENT_ERROR.TOKEN, (e as Error).message));
    h.destroy = () => {};
    return h;
  }
  h.ownToken = typeof token === 'string';
  const sig = new Signal<Payload>(at, { ...options, autoConnect: false });
  h.signal = sig;
  h.destroy = (final) => {
    if (final) hub.dispose();
    else hub.detach();
    const t = sig.token;
    sig.dispose();
    if (h.ownToken) t.dispose();
  };
  hub.attach(sig);
  sig.connect();
  return h;
}
