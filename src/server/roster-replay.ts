/**
 * The roster replay to a presence newcomer: a `join_back` per member already there, then each member's state as
 * `signal.send {from: member, to: newcomer, id, state}`, with flow control. Past {@link REPLAY_HIGH_WATER} queued
 * bytes it waits for the reader to drain, so a roster of any size reaches a reading client and the server never
 * holds more than about that much of it per newcomer.
 */
import { METHOD, type Limits } from '../protocol/constants.js';
import { encodeNotification } from '../protocol/frames.js';
import type { LocalChannel } from './local-channel.js';
import { outFrame, type Session } from './session.js';

/** Bytes queued for a newcomer past which its roster replay waits for it to drain. */
export const REPLAY_HIGH_WATER = 262_144;

/**
 * Replay `c`'s roster to `s`. Members that left meanwhile are skipped (the newcomer got their leave live), and a
 * state is the newest at the time it is sent. `false` when the newcomer went away (or failed to drain within
 * `slowConsumerMs` and was dropped).
 */
export async function replayRoster(s: Session, c: LocalChannel, limits: Limits): Promise<boolean> {
  const snapshot = [...c.roster.keys()];
  const name = c.name;
  for (const addr of snapshot) {
    if (addr === s.address || !c.roster.has(addr)) continue;
    s.write(outFrame(encodeNotification(METHOD.joinBack, { id: name, from: addr })), limits);
    if (s.transport.bufferedAmount() > REPLAY_HIGH_WATER && !(await drained(s, limits))) return false;
  }
  for (const addr of snapshot) {
    if (addr === s.address) continue;
    const state = c.roster.get(addr);
    if (state === undefined) continue;
    s.write(outFrame(encodeNotification(METHOD.send, { id: name, from: addr, to: s.address, state })), limits);
    if (s.transport.bufferedAmount() > REPLAY_HIGH_WATER && !(await drained(s, limits))) return false;
  }
  return !s.closed;
}

/** Wait until `s` has drained below half the high-water mark; drop it if it does not within `slowConsumerMs`. */
async function drained(s: Session, limits: Limits): Promise<boolean> {
  const since = Date.now();
  while (!s.closed && s.transport.bufferedAmount() > REPLAY_HIGH_WATER / 2) {
    if (Date.now() - since > limits.slowConsumerMs) {
      s.closed = true;
      s.transport.terminate();
      return false;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return !s.closed;
}
