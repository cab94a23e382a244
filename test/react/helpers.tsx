import { WebSocket } from 'ws';
import React, { Profiler, type ProfilerOnRenderCallback, type ReactNode } from 'react';
import type { WebSocketConstructor } from '../../src/client/index.js';

/** A real `ws` WebSocket that records what the client sends (counts sockets and join calls per channel). */
export function recordingWebSocket(): {
  WS: WebSocketConstructor;
  sockets: () => number;
  joins: (channel?: string) => number;
  /** Text frames sent that contain `needle`. */
  sent: (needle: string) => number;
} {
  let sockets = 0;
  const joins: string[] = [];
  const frames: string[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets++;
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') frames.push(data);
      if (typeof data === 'string' && data.includes('"signal.join"')) {
        const id = (JSON.parse(data) as { params?: { id?: string } }).params?.id;
        if (typeof id === 'string') joins.push(id);
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return {
    WS: Recording as unknown as WebSocketConstructor,
    sockets: () => sockets,
    joins: (channel) => (channel === undefined ? joins.length : joins.filter((j) => j === channel).length),
    sent: (needle) => frames.filter((f) => f.includes(needle)).length,
  };
}

/** Render counters keyed by Profiler id (counts commits of that subtree, mounts and updates). */
export function renderCounter(): {
  Count: (props: { id: string; children: ReactNode }) => ReactNode;
  get: (id: string) => number;
  reset: () => void;
} {
  const counts = new Map<string, number>();
  const onRender: ProfilerOnRenderCallback = (id) => {
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };
  return {
    Count: ({ id, children }) => (
      <Profiler id={id} onRender={onRender}>
        {children}
      </Profiler>
    ),
    get: (id) => counts.get(id) ?? 0,
    reset: () => counts.clear(),
  };
}

