import type { ParticipantView } from '../react/channel-store.js';

/** A display name: `state.name` (or `state.displayName`) when it is a non-empty string, else the identity. */
export function participantName(p: Pick<ParticipantView, 'identity' | 'state'>): string {
  const s = p.state as Record<string, unknown> | null | undefined;
  if (s && typeof s === 'object') {
    for (const n of [s.name, s.displayName]) if (typeof n === 'string' && n.trim()) return n;
  }
  return p.identity;
}

/**
 * The default English sentence for {@link TypingIndicator}: "Alice is typing…", "Alice and Bob are typing…",
 * "Alice, Bob and Carol are typing…", "Alice, Bob and 3 others are typing…"; `''` for nobody.
 */
export function formatTyping(names: readonly string[]): string {
  const n = names.length;
  if (n === 0) return '';
  const who =
    n === 1 ? names[0] : n === 2 ? `${names[0]} and ${names[1]}` : `${names[0]}, ${names[1]} and ${n === 3 ? names[2] : `${n - 2} others`}`;
  return `${who} ${n === 1 ? 'is' : 'are'} typing…`;
}
