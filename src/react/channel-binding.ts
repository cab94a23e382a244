import type { Channel, Participant, Payload, SignalMessage } from '../client/index.js';
import { appendBounded } from './bounded.js';
import { viewOf, type ChannelStore, type ParticipantView } from './channel-store.js';
import type { TypingStore } from './typing-store.js';

/**
 * Mirror a client Channel into a channel store: status, error, participants (as immutable views, replaced one by
 * one), my state, the last `messageLimit` messages; typing frames, messages and leavers to `typing` (a message or a
 * leave ends "typing"). Each message then goes to `onMessage`. Returns the unbind.
 */
export function bindChannel(
  ch: Channel<Payload, unknown>,
  store: ChannelStore,
  typing: Pick<TypingStore, 'typing' | 'remove'>,
  messageLimit: number,
  onMessage: (msg: SignalMessage<Payload>, participant: Participant<unknown, Payload> | undefined) => void,
): () => void {
  const views = new Map<string, ParticipantView>();
  for (const p of ch.participants.values()) views.set(p.id, viewOf(p));
  const roster = () => ({ participants: [...views.values()], byId: new Map(views) });
  // Inside a batch of roster changes (extension) the views change one by one and the store once, at its end.
  let inBatch = false;
  const offs = [
    ch.on('batch', (open) => {
      inBatch = open;
      if (!open) store.setState(roster());
    }),
    ch.on('status', (status) => {
      store.setState(status === 'failed' ? { status, error: ch.error } : status === 'joined' ? { status, error: undefined } : { status });
    }),
    ch.on('error', (error) => store.setState({ error })),
    ch.on('participant', (p, op) => {
      if (op === -1) {
        views.delete(p.id);
        typing.remove(p.id);
      } else views.set(p.id, viewOf(p));
      if (!inBatch) store.setState(roster());
    }),
    // Typing frames come sorted by the client's Channel: never as messages.
    ch.on('typing', (from, ms) => typing.typing(from, ms)),
    ch.on('message', (msg, p) => {
      typing.remove(msg.from); // a message ends "typing"
      store.setState({ messages: appendBounded(store.getState().messages, msg, messageLimit) });
      onMessage(msg, p);
    }),
    ch.me.on('state', (state) => store.setState({ myState: state })),
  ];
  store.setState({ status: ch.status, error: ch.error, ...roster(), myState: ch.me.state, channel: ch });
  return () => {
    for (const off of offs) off();
  };
}
