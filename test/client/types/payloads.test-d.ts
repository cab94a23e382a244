// Type-level checks of the client's generic payloads, compiled by test/client/types.test.ts (tsc over test/client/types).
// Each `@ts-expect-error` must be needed, or tsc fails.
import { AccessToken, Signal, SignalError, type ConnectionState, type ParticipantOp } from '../../../src/client/index.js';

declare const token: AccessToken;
const sig = new Signal<{ text: string }>(token, { reconnect: { initialDelay: 500 } });
sig.send({ to: 'bob', text: 'hi' });
// @ts-expect-error text must be a string
sig.send({ to: 'bob', text: 1 });
// @ts-expect-error to is required
sig.send({ text: 'x' });
sig.on('message', (m) => {
  const text: string = m.text;
  const from: string = m.from;
  void [text, from];
});
sig.on('state', (s, prev) => {
  const a: ConnectionState = s;
  const b: ConnectionState = prev;
  void [a, b];
});
sig.on('error', (e) => {
  const err: SignalError = e;
  const rpc: number | undefined = e.rpcCode;
  void [err, rpc];
});
// @ts-expect-error no such event
sig.on('nope', () => {});

const ch = sig.join<{ kind: 'offer' | 'answer'; sdp?: string }, { name: string }>('room', { presence: true });
ch.publish({ kind: 'offer', sdp: 'v=0' });
// @ts-expect-error kind is a closed union
ch.publish({ kind: 'bye' });
ch.me.updateState({ name: 'Ann' });
// @ts-expect-error the state shape is fixed
ch.me.updateState({ nom: 'Ann' });
ch.on('participant', (p, op) => {
  const st: { name: string } | undefined = p.state;
  const o: ParticipantOp = op;
  p.send({ kind: 'answer' });
  // @ts-expect-error participant messages use the channel's message type
  p.send({ kind: 'hello' });
  p.on('state', (s) => {
    const name: string | undefined = s?.name;
    void name;
  });
  void [st, o];
});
ch.on('message', (m) => {
  const kind: 'offer' | 'answer' = m.kind;
  const from: string = m.from;
  void [kind, from];
});
const ready: Promise<void> = ch.ready;
void ready;
