import { createContext, useContext, useState, type ReactNode } from 'react';
import type { Decorator } from '@storybook/react-vite';
import type { WebSocketConstructor, WebSocketLike } from 'react-signal-service/client';
import { createInPageServer, type InPageServer } from 'react-signal-service/server/browser';

/** Where demos connect. */
export type ServerMode = 'in-page' | 'real';

/** What a demo pane needs to connect a user: a token and, when needed, a WebSocket class. */
export interface DemoServer {
  mode: ServerMode;
  /** A short label for the demo header. */
  label: string;
  /** The server's base URL (the tokens' `aud`). */
  url: string;
  /** Mint (in-page) or fetch (`POST /token`, real server) a token. */
  token(identity: string, device: string): Promise<string>;
  /** Pass as `options.WebSocket`. */
  WebSocket: WebSocketConstructor;
  /** Cut every connection of `identity` like a network cut (the client reconnects). */
  drop(identity: string): void;
  /** While offline, connection attempts of `identity` fail. */
  setOnline(identity: string, online: boolean): void;
}

/** The demo secret of the in-page server: tokens are minted in this page. Demo only. */
const DEMO_SECRET = 'storybook-demo-secret';

let inPage: InPageServer | null = null;
let inPageDemo: DemoServer | null = null;
const realDemos = new Map<string, DemoServer>();

function inPageServer(): DemoServer {
  if (inPageDemo) return inPageDemo;
  const srv = (inPage = createInPageServer({ secret: DEMO_SECRET, latency: 4 }));
  return (inPageDemo = inPageDemoOf(srv));
}

/** A demo server over an in-page server. */
function inPageDemoOf(srv: InPageServer): DemoServer {
  const demo: DemoServer = {
    mode: 'in-page',
    label: 'in-page server',
    url: srv.url,
    token: (identity, device) => srv.token(identity, device),
    WebSocket: srv.WebSocket,
    drop: (identity) => void srv.drop(identity),
    setOnline: (identity, online) => srv.setOnline(identity, online),
  };
  return demo;
}

/** The in-page server of this page (for tests and the docs). */
export function getInPageServer(): InPageServer {
  inPageServer();
  return inPage!;
}

/** The identity in a socket URL's `jwt` (its `sub` is `identity/device`). */
function identityOf(url: string): string {
  try {
    const jwt = new URL(url).searchParams.get('jwt') ?? '';
    const body = jwt.split('.')[1] ?? '';
    const json = atob(body.replace(/-/g, '+').replace(/_/g, '/'));
    return String((JSON.parse(json) as { sub?: string }).sub ?? '').split('/')[0] ?? '';
  } catch {
    return '';
  }
}

/** The page's WebSocket, with a registry so a demo can cut one user's sockets or keep them offline. */
function trackingWebSocket(): Pick<DemoServer, 'WebSocket' | 'drop' | 'setOnline'> {
  const sockets = new Map<WebSocket, string>();
  const offline = new Set<string>();
  const Base = globalThis.WebSocket;
  class Offline implements WebSocketLike {
    readyState = 0;
    onopen: WebSocketLike['onopen'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    constructor() {
      setTimeout(() => {
        this.readyState = 3;
        this.onerror?.({ type: 'error' });
        this.onclose?.({ code: 1006, reason: '' });
      }, 50);
    }
    send(): void {}
    close(): void {}
  }
  function Tracked(url: string): WebSocketLike {
    const identity = identityOf(url);
    if (offline.has(identity)) return new Offline();
    const ws = new Base(url);
    sockets.set(ws, identity);
    ws.addEventListener('close', () => sockets.delete(ws));
    return ws as unknown as WebSocketLike;
  }
  const drop = (identity: string): void => {
    for (const [ws, id] of sockets) {
      if (id !== identity) continue;
      sockets.delete(ws);
      // The server sees an orderly close (presence leaves at once); the client sees a cut and reconnects.
      const onclose = ws.onclose;
      ws.onclose = null;
      ws.close(4000, 'dropped by the demo');
      onclose?.call(ws, new CloseEvent('close', { code: 1006, reason: 'dropped by the demo' }));
    }
  };
  return {
    WebSocket: Tracked as unknown as WebSocketConstructor,
    drop,
    setOnline: (identity, online) => {
      if (online) offline.delete(identity);
      else {
        offline.add(identity);
        drop(identity);
      }
    },
  };
}

function realServer(url: string): DemoServer {
  const base = url.replace(/\/+$/, '');
  let demo = realDemos.get(base);
  if (demo) return demo;
  demo = {
    mode: 'real',
    label: base.replace(/^https?:\/\//, ''),
    url: base,
    async token(identity, device) {
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity, device }),
      });
      if (!res.ok) throw new Error(`POST ${base}/token: HTTP ${res.status} (start the server with --dev-tokens)`);
      return ((await res.json()) as { token: string }).token;
    },
    ...trackingWebSocket(),
  };
  realDemos.set(base, demo);
  return demo;
}

/** The real server's URL: `?signalUrl=` on the page, else `STORYBOOK_SIGNAL_URL`, else port 7070. */
export function realServerUrl(): string {
  const fromPage = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('signalUrl');
  return fromPage ?? import.meta.env.STORYBOOK_SIGNAL_URL ?? 'http://127.0.0.1:7070';
}

/** The server for a mode (a `?signalUrl=` on the page forces the real server). */
export function getDemoServer(mode: ServerMode): DemoServer {
  const forced = typeof location !== 'undefined' && new URLSearchParams(location.search).has('signalUrl');
  return mode === 'real' || forced ? realServer(realServerUrl()) : inPageServer();
}

const DemoServerContext = createContext<DemoServer | null>(null);

/** The demo server chosen in the toolbar. */
export function useDemoServer(): DemoServer {
  const s = useContext(DemoServerContext);
  return s ?? getDemoServer('in-page');
}

export function DemoServerProvider({ mode, children }: { mode: ServerMode; children: ReactNode }) {
  return <DemoServerContext.Provider value={getDemoServer(mode)}>{children}</DemoServerContext.Provider>;
}

/**
 * One story instance of a docs page, isolated from the others on that page (a docs page renders the primary story
 * twice and every other story once, all in one page): its own in-page server, so users, channels and direct
 * messages of one instance never show up in another; on a real server, its own channel names.
 */
function IsolatedStory({ mode, children }: { mode: ServerMode; children: ReactNode }) {
  const [instance] = useState(() => ({
    id: `-d${(++instanceSeq).toString(36)}`,
    server: mode === 'in-page' ? inPageDemoOf(createInPageServer({ secret: DEMO_SECRET, latency: 4 })) : null,
  }));
  return (
    <StoryInstanceContext.Provider value={instance.id}>
      {instance.server ? (
        <DemoServerContext.Provider value={instance.server}>{children}</DemoServerContext.Provider>
      ) : (
        <DemoServerProvider mode={mode}>{children}</DemoServerProvider>
      )}
    </StoryInstanceContext.Provider>
  );
}
let instanceSeq = 0;

/** A suffix unique to this story instance on a docs page, `''` on a story's own page. */
const StoryInstanceContext = createContext('');

/** A channel name unique to this story (and to this instance of it on a docs page). */
export function useStoryChannel(storyId: string): string {
  return `story-${storyId}${useContext(StoryInstanceContext)}`;
}

/** Storybook decorator: the toolbar's "Signal server" global picks the server. */
export const withSignalServer: Decorator = (Story, context) => {
  const mode: ServerMode = context.globals['signalServer'] === 'real' ? 'real' : 'in-page';
  const forced = typeof location !== 'undefined' && new URLSearchParams(location.search).has('signalUrl');
  if (context.viewMode === 'docs') {
    const isolated: ServerMode = forced ? 'real' : mode;
    return (
      // Keyed by mode: switching the toolbar's server on a docs page starts the instance over on the new server.
      <IsolatedStory key={isolated} mode={isolated}>
        <Story />
      </IsolatedStory>
    );
  }
  return (
    <DemoServerProvider mode={mode}>
      <Story />
    </DemoServerProvider>
  );
};
