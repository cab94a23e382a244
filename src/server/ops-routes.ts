/**
 * The operator's HTTP routes: `GET|HEAD /healthz` (liveness: the process answers), `GET /readyz` (readiness: 503
 * before the server is ready, while draining or closing, while the broker is disconnected; 200 otherwise; the reason
 * in the JSON body) and `GET /metrics` (Prometheus text, when metrics are on).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-body.js';
import type { SignalCore } from './core.js';
import type { Metrics } from './metrics.js';

/** What readiness depends on besides the broker. */
export interface OpsState {
  /** The broker attached and `listen` (or `attach`) done. */
  started(): boolean;
  /** Draining or closing. */
  stopping(): 'draining' | 'closing' | null;
}

/** Why the server is not ready, or `null` when it is. */
export function notReady(core: SignalCore, state: OpsState): string | null {
  const stopping = state.stopping();
  if (stopping) return stopping;
  if (!state.started()) return 'starting';
  if (!core.brokerReady()) return 'broker disconnected';
  return null;
}

/** A text answer (the metrics exposition). */
function sendText(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

/** A handler for the three routes: `true` when it answered (the path is one of them). */
export function opsRoutes(core: SignalCore, metrics: Metrics | null, state: OpsState): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  return (req, res, path) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      if (path !== '/healthz' && path !== '/readyz' && (path !== '/metrics' || !metrics)) return false;
      sendJson(res, 405, { error: 'use GET or HEAD' }, { allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/healthz') {
      const st = core.stats();
      sendJson(res, 200, { ok: state.stopping() !== 'closing', connections: st.connections, channels: st.channels }, {}, head);
      return true;
    }
    if (path === '/readyz') {
      const why = notReady(core, state);
      sendJson(res, why ? 503 : 200, why ? { ready: false, reason: why } : { ready: true, reason: 'ready' }, {}, head);
      return true;
    }
    if (path === '/metrics' && metrics) {
      metrics.scrape().then(
        (text) => sendText(res, 200, metrics.registry.contentType, text, head),
        (e: Error) => sendText(res, 500, 'text/plain', `metrics failed: ${e.message}\n`, head),
      );
      return true;
    }
    return false;
  };
}
