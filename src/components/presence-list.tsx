'use client';
import { memo, type ReactNode } from 'react';
import type { ParticipantView } from '../react/channel-entry.js';
import { useIdentity, useMyStateValue, useParticipant, useParticipants } from '../react/hooks.js';
import { participantName } from './names.js';

/** One entry of a {@link PresenceList}, as given to `renderItem`. */
export interface PresenceItem<S = unknown> {
  /** Endpoint address (`identity/device/route`); for me, my address once joined, else `identity/device`. */
  id: string;
  identity: string;
  /** Display name (from state, else identity). */
  name: string;
  state: S | undefined;
  /** This entry is me. */
  isMe: boolean;
  /** The participant's view (undefined for me). */
  participant: ParticipantView<S> | undefined;
}

/** Props of {@link PresenceList}. */
export interface PresenceListProps<S = unknown> {
  /** The channel (held, with presence, while mounted). */
  channel: string;
  /** Show at most this many entries (me included), then a "+N" entry. */
  max?: number;
  /** Content of each `<li>` (the `li` itself, its class and `data-me` stay). @default the name, and "(you)" for me */
  renderItem?: (item: PresenceItem<S>) => ReactNode;
  /** Display name of an entry. @default participantName: `state.name`, else the identity */
  getName?: (p: { identity: string; state: S | undefined }) => string;
  /** List my own entry first. @default true */
  showMe?: boolean;
  /** Accessible name of the list. @default "Participants in <channel>" */
  label?: string;
  /** Extra class names, after `rss-presence`. */
  className?: string;
}

const selectIds = (ps: readonly ParticipantView[]): string[] => ps.map((p) => p.id);

/**
 * Who is in a channel: a `role="list"` (`ul.rss-presence`) of `li.rss-presence__item` entries, me first and
 * marked (`data-me`, "(you)"), names from state or identity, `max` with a "+N" entry (`li.rss-presence__more`).
 * The list re-renders only on membership changes; each row re-renders only on its own participant's state.
 */
export function PresenceList<S = unknown>({
  channel,
  max,
  renderItem,
  getName = participantName as (p: { identity: string; state: S | undefined }) => string,
  showMe = true,
  label,
  className,
}: PresenceListProps<S>): ReactNode {
  const ids = useParticipants(channel, selectIds);
  const total = ids.length + (showMe ? 1 : 0);
  const room = max === undefined ? total : Math.max(0, max);
  const shownOthers = ids.slice(0, Math.max(0, room - (showMe ? 1 : 0)));
  const more = total - Math.min(total, room);
  return (
    <ul role="list" className={className ? `rss-presence ${className}` : 'rss-presence'} aria-label={label ?? `Participants in ${channel}`}>
      {showMe && room > 0 ? <MeRow channel={channel} renderItem={renderItem} getName={getName} /> : null}
      {shownOthers.map((id) => (
        <Row key={id} channel={channel} id={id} renderItem={renderItem} getName={getName} />
      ))}
      {more > 0 ? (
        <li className="rss-presence__more" aria-label={`${more} more`}>
          +{more}
        </li>
      ) : null}
    </ul>
  );
}

interface RowProps<S> {
  channel: string;
  renderItem: ((item: PresenceItem<S>) => ReactNode) | undefined;
  getName: (p: { identity: string; state: S | undefined }) => string;
}

const Row = memo(function PresenceRow<S>({ channel, id, renderItem, getName }: RowProps<S> & { id: string }): ReactNode {
  const view = useParticipant<S>(channel, id);
  const identity = view?.identity ?? id.split('/')[0] ?? id;
  const state = view?.state;
  const name = getName({ identity, state });
  return (
    <li className="rss-presence__item" data-id={id}>
      {renderItem ? (
        renderItem({ id, identity, name, state, isMe: false, participant: view })
      ) : (
        <span className="rss-presence__name">{name}</span>
      )}
    </li>
  );
}) as <S>(props: RowProps<S> & { id: string }) => ReactNode;

const MeRow = memo(function PresenceMeRow<S>({ channel, renderItem, getName }: RowProps<S>): ReactNode {
  const state = useMyStateValue<S>(channel);
  const identity = useIdentity() ?? '';
  const name = getName({ identity, state });
  return (
    <li className="rss-presence__item rss-presence__item--me" data-me="">
      {renderItem ? (
        renderItem({ id: identity, identity, name, state, isMe: true, participant: undefined })
      ) : (
        <>
          <span className="rss-presence__name">{name}</span> <span className="rss-presence__me">(you)</span>
        </>
      )}
    </li>
  );
}) as <S>(props: RowProps<S>) => ReactNode;
