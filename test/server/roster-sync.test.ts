/**
 * Roster sync (src/server/roster-sync.ts) without sockets or a real broker: a fake link whose roster reads the test
 * resolves by hand, and sessions on a recording transport. Checks what reaches the local members, in which order,
 * and that what broker messages change while a read is in flight wins over the read.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/protocol/constants.js';
import type { BrokerLink, RosterMember } from '../../src/server/broker.js';
import type { CoreContext } from '../../src/server/core-context.js';
import type { LocalChannel, LocalChannels } from '../../src/server/local-channel.js';
import { RosterSync } from '../../src/server/roster-sync.js';
import { Session, type OutFrame } from '../../src/server/session.js';

interface Frame {
  method: string;
  params: Record<string, unknown>;
}

function setup() {
  let answer: (m: RosterMember[]) => void = () => {};
  const calls: string[] = [];
  const link: BrokerLink = {
    subscribe: (t) => void calls.push(`subscribe ${t}`),
    unsubscribe: () => {},
    publish: () => {},
    addMember: (ch, m) => void calls.push(`addMember ${ch} ${m.address} ${JSON.stringify(m.state)}`),
    removeMember: () => {},
    setState: () => {},
    members: () => new Promise<RosterMember[]>((r) => (answer = r)),
    close: () => {},
  };
  const ctx: CoreContext = { limits: DEFAULT_LIMITS, link, linkP: Promise.resolve(link) };
  const open: LocalChannels = new Map();
  const sync = new RosterSync(ctx, open);
  const frames: Frame[] = [];
  const me = new Session(
    { send: (f: OutFrame) => void frames.push(JSON.parse(f.text) as Frame), close: () => {}, terminate: () => {}, bufferedAmount: () => 0 },
    'me', 'd', 'r1', {}, 100, 0,
  );
  me.addChannel('ch', true);
  const c: LocalChannel = { name: 'ch', members: new Map([[me.address, me]]), roster: new Map(), ready: Promise.resolve() };
  open.set('ch', c);
  const seen = (): string[] => frames.splice(0).map((f) => `${f.method} ${String(f.params.from)}${'state' in f.params ? ` ${JSON.stringify(f.params.state)}` : ''}`);
  /** Let the read start (it awaits the link first), then answer it. */
  const read = async (members: RosterMember[]): Promise<void> => {
    await new Promise((r) => setTimeout(r, 0));
    answer(members);
  };
  const msg = (t: 'join' | 'leave', from: string) => ({ t, ch: 'ch', from, frame: JSON.stringify({ jsonrpc: '2.0', method: `signal.${t}`, params: { id: 'ch', from } }) });
  return { sync, link, c, me, calls, seen, read, msg };
}

describe('RosterSync', () => {
  it('a resync announces the leaves first, then each new or changed member (a join, then its state) in read order', async () => {
    const { sync, link, c, me, seen, read } = setup();
    c.roster = new Map<string, unknown>([[me.address, { mine: 1 }], ['x/d/1', undefined], ['y/d/1', { s: 1 }], ['z/d/1', { s: 1 }]]);
    const done = sync.resync(link, ['ch']);
    await read([{ address: 'a/d/1', state: { s: 2 } }, { address: 'z/d/1', state: { s: 2 } }, { address: 'b/d/1' }, { address: 'y/d/1', state: { s: 1 } }]);
    await done;
    expect(seen()).toEqual(['signal.leave x/d/1', 'signal.join a/d/1', 'signal.publish a/d/1 {"s":2}', 'signal.publish z/d/1 {"s":2}', 'signal.join b/d/1']);
    expect([...c.roster.keys()]).toEqual([me.address, 'y/d/1', 'z/d/1', 'a/d/1', 'b/d/1']);
    expect(c.roster.get(me.address)).toEqual({ mine: 1 }); // our own member is never taken from a read
  });

  it('a join or leave that arrives while the read is in flight wins over the read: announced once, never undone', async () => {
    const { sync, link, c, seen, read, msg } = setup();
    c.roster = new Map<string, unknown>([['y/d/1', undefined]]);
    const done = sync.resync(link, ['ch']);
    await new Promise((r) => setTimeout(r, 0));
    sync.onMessage(msg('join', 'x/d/1'));
    sync.onMessage(msg('leave', 'y/d/1'));
    await read([{ address: 'y/d/1' }]); // read before both: x not there yet, y still there
    await done;
    expect(seen()).toEqual(['signal.join x/d/1', 'signal.leave y/d/1']);
    expect([...c.roster.keys()]).toEqual(['x/d/1']);
  });

  it('a state published meanwhile by a member not held yet is newer than the read', async () => {
    const { sync, link, c, seen, read } = setup();
    const done = sync.resync(link, ['ch']);
    await new Promise((r) => setTimeout(r, 0));
    sync.onMessage({ t: 'pub', ch: 'ch', from: 'x/d/1', frame: '{"jsonrpc":"2.0","method":"signal.publish","params":{"id":"ch","from":"x/d/1","state":2}}', hasState: true, state: 2 });
    await read([{ address: 'x/d/1', state: 1 }]);
    await done;
    expect(seen()).toEqual(['signal.publish x/d/1 2', 'signal.join x/d/1', 'signal.publish x/d/1 2']);
    expect(c.roster.get('x/d/1')).toBe(2);
  });

  it('an unsure member is kept when held and never added', async () => {
    const { sync, link, c, seen, read } = setup();
    c.roster = new Map<string, unknown>([['x/d/1', 1]]);
    const done = sync.resync(link, ['ch']);
    await read([{ address: 'x/d/1', unsure: true }, { address: 'y/d/1', unsure: true }]);
    await done;
    expect(seen()).toEqual([]);
    expect([...c.roster]).toEqual([['x/d/1', 1]]);
  });

  it('after an outage: resubscribes, re-adds the local presence members with their states, then reconciles', async () => {
    const { sync, link, c, me, calls, seen, read } = setup();
    c.roster = new Map<string, unknown>([[me.address, { mine: 1 }], ['x/d/1', undefined]]);
    const done = sync.resync(link);
    await read([{ address: me.address, state: { mine: 1 } }]);
    await done;
    expect(calls).toEqual(['subscribe ch:ch', `addMember ch ${me.address} {"mine":1}`]);
    expect(seen()).toEqual(['signal.leave x/d/1']);
  });

  it('the first read fills the roster silently; a member touched meanwhile keeps what the message said', async () => {
    const { sync, link, c, seen, read, msg } = setup();
    const done = sync.load(link, c);
    await new Promise((r) => setTimeout(r, 0));
    sync.onMessage(msg('leave', 'y/d/1')); // not held: no frame, but newer than the read
    await read([{ address: 'x/d/1', state: 1 }, { address: 'y/d/1' }]);
    await done;
    expect(seen()).toEqual([]);
    expect([...c.roster]).toEqual([['x/d/1', 1]]);
  });

  it("members lost with their node leave once; a repeated report, and this node's own members, change nothing", () => {
    const { sync, c, me, seen, msg } = setup();
    c.roster = new Map<string, unknown>([[me.address, undefined], ['x/d/1', undefined]]);
    sync.onMembersLost('ch', ['x/d/1', me.address]);
    sync.onMembersLost('ch', ['x/d/1']);
    sync.onMembersLost('other', ['x/d/1']);
    expect(seen()).toEqual(['signal.leave x/d/1']);
    sync.onMessage(msg('join', 'y/d/1'));
    sync.onMessage(msg('join', 'y/d/1')); // known already: no second join
    sync.onMessage(msg('leave', 'z/d/1')); // not held: no leave
    expect(seen()).toEqual(['signal.join y/d/1']);
    expect([...c.roster.keys()]).toEqual([me.address, 'y/d/1']);
  });
});
