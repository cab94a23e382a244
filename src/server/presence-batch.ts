/**
 * Batched presence (extension, see PROTOCOL.md "Batched presence"): for members that joined with `batch: true`,
 * a channel's roster changes (joins, leaves, from here or from other nodes) are coalesced per tick into one
 * `signal.presence` frame, encoded once and shared by every such member; newcomers of a tick share one snapshot of
 * the whole roster (with states) instead of a `join_back` and a state frame per member. Everyone else keeps the Bit6
 * form: one `join`/`join_back`/`leave` frame per member.
 *
 * A batch entry carries a member's status at flush time (present with its current state, or gone), so applying
 * batches is idempotent and converges to the roster whatever the interleaving with publishes: a state published
 * after the flush arrives after it, one published before it is in it.
 */
import { METHOD, type Limits } from '../protocol/constants.js';
import type { LocalChannel } from './local-channel.js';
import { outFrame, type OutFrame, type Session } from './session.js';

/** A batch frame is cut into several past this many characters of entries (each a complete frame). */
export const BATCH_CHUNK = 32_768;

/** The batch side of one channel: its batch members, newcomers waiting for their snapshot, addresses changed. */
interface BatchState {
  members: Set<Session>;
  /** Newcomers -> resolve (with `false` when gone) once their snapshot is written. */
  fresh: Map<Session, (ok: boolean) => void>;
  /** Addresses whose presence changed since the last flush. */
  pending: Set<string>;
}

export class PresenceBatcher {
  private readonly states = new Map<LocalChannel, BatchState>();
  private readonly dirty = new Set<LocalChannel>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly limits: Limits) {}

  /**
   * Register a batch newcomer of `c`: it is told its own address now, and gets the roster snapshot at the next
   * flush (the promise resolves then; `false` when it left or closed meanwhile). Call before announcing its join.
   */
  admit(s: Session, c: LocalChannel): Promise<boolean> {
    let st = this.states.get(c);
    if (!st) this.states.set(c, (st = { members: new Set(), fresh: new Map(), pending: new Set() }));
    s.write(outFrame(`{"jsonrpc":"2.0","method":"${METHOD.presence}","params":{"id":${JSON.stringify(c.name)},"from":"","self":${JSON.stringify(s.address)}}}`), this.limits);
    const state = st;
    const p = new Promise<boolean>((resolve) => state.fresh.set(s, resolve));
    this.schedule(c);
    return p;
  }

  /** `s` left `c` (or closed): no more batches for it. */
  forget(c: LocalChannel, s: Session): void {
    const st = this.states.get(c);
    if (!st) return;
    st.members.delete(s);
    const r = st.fresh.get(s);
    if (r) {
      st.fresh.delete(s);
      r(false);
    }
    if (st.members.size === 0 && st.fresh.size === 0) {
      this.states.delete(c);
      this.dirty.delete(c);
    }
  }

  /**
   * A presence change of `address` in `c` (its roster already updated): `frame` (the Bit6 join or leave) to every
   * local member but `except` and the batch members, who get it in the next batch.
   */
  announce(c: LocalChannel, frame: OutFrame, address: string, except: Session | null): void {
    const st = this.states.get(c);
    const limits = this.limits;
    if (!st) {
      for (const m of c.members.values()) if (m !== except) m.write(frame, limits);
      return;
    }
    // Only when some member takes per-member frames (a channel of batch members only costs no loop).
    if (c.members.size > st.members.size + st.fresh.size) {
      for (const m of c.members.values()) if (m !== except && !st.members.has(m) && !st.fresh.has(m)) m.write(frame, limits);
    }
    if (st.members.size > 0) {
      st.pending.add(address);
      this.schedule(c);
    }
  }

  private schedule(c: LocalChannel): void {
    this.dirty.add(c);
    // One flush per tick of the event loop (a timer, so the core runs in a browser page too).
    this.timer ??= setTimeout(() => this.flush(), 0);
  }

  /** Write every dirty channel's batch to its batch members, and the snapshot to its newcomers. */
  flush(): void {
    this.timer = undefined;
    const limits = this.limits;
    for (const c of this.dirty) {
      const st = this.states.get(c);
      if (!st) continue;
      if (st.pending.size > 0 && st.members.size > 0) {
        const frames = encode(c, st.pending);
        for (const m of st.members) for (const f of frames) m.write(f, limits);
      }
      st.pending.clear();
      if (st.fresh.size > 0) {
        const frames = encode(c, c.roster.keys());
        const fresh = [...st.fresh];
        st.fresh.clear();
        for (const [m, resolve] of fresh) {
          for (const f of frames) m.write(f, limits);
          st.members.add(m);
          resolve(!m.closed);
        }
      }
    }
    this.dirty.clear();
  }
}

/**
 * `signal.presence` frames for `addresses` of `c`: each present one as `[address]` or `[address, state]` (its state
 * now), each gone one in `left`; cut into frames of about {@link BATCH_CHUNK} characters.
 */
function encode(c: LocalChannel, addresses: Iterable<string>): OutFrame[] {
  const head = `{"jsonrpc":"2.0","method":"${METHOD.presence}","params":{"id":${JSON.stringify(c.name)},"from":""`;
  const frames: OutFrame[] = [];
  let members: string[] = [];
  let left: string[] = [];
  let size = 0;
  const cut = (): void => {
    frames.push(outFrame(`${head}${members.length ? `,"members":[${members.join(',')}]` : ''}${left.length ? `,"left":[${left.join(',')}]` : ''}}}`));
    members = [];
    left = [];
    size = 0;
  };
  for (const a of addresses) {
    const roster = c.roster;
    let text: string;
    if (roster.has(a)) {
      const state = roster.get(a);
      text = state === undefined ? `[${JSON.stringify(a)}]` : `[${JSON.stringify(a)},${JSON.stringify(state)}]`;
      members.push(text);
    } else {
      text = JSON.stringify(a);
      left.push(text);
    }
    size += text.length + 1;
    if (size >= BATCH_CHUNK) cut();
  }
  if (members.length || left.length || frames.length === 0) cut();
  return frames;
}
