/** Shared by the client's unit tests: unsigned JWTs and a Signal on the scripted FakeWebSocket. */
import { Signal, type SignalError, type SignalOptions } from '../../src/client/index.js';
import { fakeWebSocket } from '../../src/testing/fake-websocket.js';

const b64u = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An unsigned JWT (the client never checks signatures). */
export const jwt = (claims: Record<string, unknown>): string => `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(claims)}.sig`;
/** Now in seconds (follows fake timers). */
export const nowS = (): number => Math.floor(Date.now() / 1000);

/** A Signal on a fresh FakeWebSocket, with its errors and states recorded from right after the constructor. */
export function setup(opts: SignalOptions = {}, claims: Record<string, unknown> = { sub: 'alice/web', aud: 'http://signal.test:7070' }) {
  const fake = fakeWebSocket();
  const errors: SignalError[] = [];
  const states: string[] = [];
  const sig = new Signal(jwt(claims), { WebSocket: fake.WebSocket, ...opts });
  sig.on('error', (e) => errors.push(e));
  sig.on('state', (s) => states.push(s));
  return { sig, fake, errors, states };
}

/** Frames as sent: `_ping` as is, JSON parsed. */
export const sentFrames = (frames: string[]) => frames.map((f) => (f === '_ping' ? f : (JSON.parse(f) as unknown)));
