// Type-level checks of the React API's generics (vitest's expectTypeOf); compiled (never run) by test/react/types.test.ts.
import { expectTypeOf } from 'vitest';
import {
  PresenceList,
  TypingIndicator,
  useChannel,
  useConnectionState,
  useDirectMessages,
  useMyState,
  useParticipantState,
  useParticipants,
  useSignal,
  useTyping,
  type ConnectionState,
  type ParticipantView,
  type Signal,
} from '../../src/index.js';

type Msg = { text: string };
type Cursor = { x: number; y: number };

export function Checks(): null {
  const ch = useChannel<Msg, Cursor>('room', { onMessage: (m, p) => expectTypeOf(p?.state).toEqualTypeOf<Cursor | undefined>() });
  expectTypeOf(ch.messages[0]!.text).toEqualTypeOf<string>();
  expectTypeOf(ch.messages[0]!.from).toEqualTypeOf<string>();
  expectTypeOf(ch.publish).parameter(0).toEqualTypeOf<Msg>();
  // @ts-expect-error a payload of another shape
  ch.publish({ txt: 'x' });

  const [cursor, setCursor] = useMyState<Cursor>('room', { throttle: 50 });
  expectTypeOf(cursor).toEqualTypeOf<Cursor | undefined>();
  setCursor({ x: 1, y: 2 });
  setCursor((prev) => ({ x: (prev?.x ?? 0) + 1, y: 0 }));
  // @ts-expect-error wrong state shape
  setCursor({ x: 'left' });

  const all = useParticipants<Cursor>('room');
  expectTypeOf(all).toEqualTypeOf<readonly ParticipantView<Cursor>[]>();
  const xs = useParticipants<Cursor, number[]>('room', (ps) => ps.map((p) => p.state?.x ?? 0));
  expectTypeOf(xs).toEqualTypeOf<number[]>();
  expectTypeOf(useParticipantState<Cursor>('room', 'bob')).toEqualTypeOf<Cursor | undefined>();
  expectTypeOf(useTyping<Cursor>('room').typing).toEqualTypeOf<readonly ParticipantView<Cursor>[]>();

  const dms = useDirectMessages<{ kind: 'ping' }>({ limit: 10, filter: (m) => m.kind === 'ping' });
  dms.send({ to: 'bob', kind: 'ping' });
  // @ts-expect-error `to` is required
  dms.send({ kind: 'ping' });

  expectTypeOf(useSignal<Msg>()).toEqualTypeOf<Signal<Msg> | null>();
  expectTypeOf(useConnectionState()).toEqualTypeOf<ConnectionState>();
  return null;
}

export const elements = [
  <TypingIndicator key="t" channel="room" format={(names) => names.join(' + ')} />,
  <PresenceList<Cursor> key="p" channel="room" max={5} renderItem={(it) => `${it.name} ${it.state?.x ?? ''}`} />,
  // @ts-expect-error channel is required
  <PresenceList key="q" />,
];
