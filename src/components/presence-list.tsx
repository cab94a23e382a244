'use client';
import type { ReactNode } from 'react';
import { memo } from '../react/react.js';
import type { ParticipantView } from '../react/channel-store.js';
import { useConnection } from '../react/use-connection-state.js';
import { useMyStateValue } from '../react/use-my-state.js';
import { useParticipant } from '../react/use-participant-state.js';
import { useParticipantIds } from '../react/use-participants.js';
import { participantName } from './names.js';

/** One entry of a {@link PresenceList}, as given to `renderItem`. */
export interface PresenceItem<S = unknown> {
  /**
   * Endpoint address (`identity/device/route`): with `groupBy="identity"`, the user's first connection in join
   * order. For me, my identity.
   */
  id: string;
  identity: string;
  /** Display name (from state, else identity). */
  name: string;
  /** The state of that connection. */
  state: S | undefined;
  /** This entry is me. */
  isMe: boolean;
  /** The participant's view (undefined for me). */
  participant: ParticipantView<S> | undefined;
  /** How many devices the entry stands for (distinct `device` parts of its connections); 1 with `groupBy="endpoint"`. */
  devices: number;
}

/** Props of {@link PresenceList}. */
export interface PresenceListProps<S = unknown> {
  /** The channel (held, with presence, while mounted). */
  channel: string;
  /**
   * `identity`: one entry per user, all their tabs and devices together ("Alice (2 devices)"), named and stated
   * from their first connection; my other connections count as my devices. `endpoint`: one entry per connection.
   * @default 'identity'
   */
  groupBy?: 'identity' | 'endpoint';
  /**
   * Show at most this many entries (me included), then a "+N" entry: a room of thousands renders a bounded list.
   * @default 200
   */
  max?: number;
  /**
   * Content of each `li` (the `li` itself, its class and `data-me` stay).
   * @default the name, "(you)" for me and "(N devices)" when more than one
   */
  renderItem?: (item: PresenceItem<S>) => ReactNode;
  /**
   * Display name of an entry.
   * @default participantName: `state.name`, else `state.displayName`, else the identity
   */
  getName?: (p: { identity: string; state: S | undefined }) => string;
  /**
   * List my own entry first.
   * @default true
   */
  showMe?: boolean;
  /**
   * Accessible name of the list.
   * @default `Participants in ${channel}`
   */
  label?: string;
  /** Extra class names, after `rss-presence`. */
  className?: string;
}

/** Entries shown when `max` is not given. */
const DEFAULT_MAX = 200;

type GetName<S> = (p: { identity: string; state: S | undefined }) => string;

/**
 * Who is in a channel: a `role="list"` (`ul.rss-presence`) of `li.rss-presence__item` entries, me first and
 * marked (`data-me`, "(you)"), one entry per user (or per connection with `groupBy="endpoint"`), names from
 * state or identity, `max` with a "+N" entry (`li.rss-presence__more`). While my own connection is not open the
 * list shows the last roster it knew, marked stale (`data-stale`, `aria-busy`). The list re-renders only on
 * membership changes; each row re-renders only on its own participant's state.
 */
export function PresenceList<S = unknown>({
  channel,
  groupBy,
  max,
  renderItem,
  getName,
  showMe = true,
  label,
  className,
}: PresenceListProps<S>): ReactNode {
  const ids = useParticipantIds(channel);
  const { identity: me, client, state } = useConnection();
  const stale = state !== 'open';
  const nameOf: GetName<S> = getName ?? participantName;
  // key (identity, or address by endpoint) -> [first address in join order, the devices of its addresses]
  const rows = new Map<string, [string, Set<string | undefined>]>();
  for (const id of ids) {
    const [who, device] = id.split('/');
    const key = groupBy === 'endpoint' ? id : who!;
    const row = rows.get(key) ?? [id, new Set()];
    row[1].add(device);
    rows.set(key, row);
  }
  // By identity, my other connections are me: they count as my devices, never as someone else.
  const mine = groupBy === 'endpoint' ? undefined : rows.get(me!);
  if (mine) rows.delete(me!);
  const total = rows.size + (showMe ? 1 : 0);
  const room = Math.max(0, max ?? DEFAULT_MAX);
  const shown = [...rows].slice(0, Math.max(0, room - (showMe ? 1 : 0)));
  const more = total - Math.min(total, room);
  return (
    <ul
      role="list"
      className={className ? `rss-presence ${className}` : 'rss-presence'}
      aria-label={label ?? `Participants in ${channel}`}
      aria-busy={stale || undefined}
      data-stale={stale ? '' : undefined}
    >
      {showMe && room > 0 ? (
        <MeRow channel={channel} id={me ?? ''} devices={mine ? mine[1].add(client?.token.device).size : 1} renderItem={renderItem} getName={nameOf} />
      ) : null}
      {shown.map(([key, [id, devices]]) => (
        <Row key={key} channel={channel} id={id} devices={devices.size} renderItem={renderItem} getName={nameOf} />
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
  /** The address shown (for me: my identity). */
  id: string;
  devices: number;
  renderItem: ((item: PresenceItem<S>) => ReactNode) | undefined;
  getName: GetName<S>;
}

/**
 * The default content of an entry: the name, "(you)" for me, "(N devices)" when more than one. Each note starts
 * with its space (text for `textContent` and screen readers; the flex `gap` spaces them on screen).
 */
function content(name: string, isMe: boolean, devices: number): ReactNode {
  return (
    <>
      <span className="rss-presence__name">{name}</span>
      {isMe ? <span className="rss-presence__me"> (you)</span> : null}
      {devices > 1 ? <span className="rss-presence__devices"> ({devices} devices)</span> : null}
    </>
  );
}

const Row = memo(function PresenceRow<S>({ channel, id, devices, renderItem, getName }: RowProps<S>): ReactNode {
  const view = useParticipant<S>(channel, id);
  const identity = view?.identity ?? id.split('/')[0] ?? id;
  const state = view?.state;
  const name = getName({ identity, state });
  return (
    <li className="rss-presence__item" data-id={id}>
      {renderItem ? renderItem({ id, identity, name, state, isMe: false, participant: view, devices }) : content(name, false, devices)}
    </li>
  );
}) as <S>(props: RowProps<S>) => ReactNode;

const MeRow = memo(function PresenceMeRow<S>({ channel, id: identity, devices, renderItem, getName }: RowProps<S>): ReactNode {
  const state = useMyStateValue<S>(channel);
  const name = getName({ identity, state });
  return (
    <li className="rss-presence__item rss-presence__item--me" data-me="">
      {renderItem ? renderItem({ id: identity, identity, name, state, isMe: true, participant: undefined, devices }) : content(name, true, devices)}
    </li>
  );
}) as <S>(props: RowProps<S>) => ReactNode;
