'use client';
import type { ReactNode } from 'react';
import type { ParticipantView } from '../react/channel-store.js';
import { useTypists } from '../react/use-typing.js';
import { formatTyping, participantName } from './names.js';

/** Props of {@link TypingIndicator}. */
export interface TypingIndicatorProps {
  /** The channel to watch (held, with presence, while mounted). */
  channel: string;
  /**
   * Turn the typists' names (deduplicated, join order) into the text; for i18n.
   * @default formatTyping (English): "Alice and Bob are typing…"
   */
  format?: (names: string[]) => ReactNode;
  /**
   * A typist's display name.
   * @default participantName: `state.name`, else `state.displayName`, else the identity
   */
  getName?: (p: ParticipantView) => string;
  /** Extra class names, after `rss-typing`. */
  className?: string;
}

/**
 * "Alice is typing…". A polite live region (`aria-live="polite"`, class `rss-typing`) that screen readers
 * announce when it changes. When nobody types it renders no text: the empty region stays in the DOM
 * (`data-empty`), because a live region must exist before its content changes to be announced reliably.
 * A user typing on two devices is named once.
 */
export function TypingIndicator({ channel, format, getName, className }: TypingIndicatorProps): ReactNode {
  const typing = useTypists(channel);
  const names: string[] = [];
  for (const p of typing) {
    const n = (getName ?? participantName)(p);
    if (!names.includes(n)) names.push(n);
  }
  const empty = names.length === 0;
  return (
    <div
      className={className ? `rss-typing ${className}` : 'rss-typing'}
      aria-live="polite"
      aria-atomic="true"
      data-empty={empty ? '' : undefined}
    >
      {empty ? null : (format ?? formatTyping)(names)}
    </div>
  );
}
