/**
 * The per-connection call queue. A call runs at once unless an earlier one of the same connection is unfinished
 * (a join waiting on `authorize` or on the roster, a refresh verifying its token): then it waits, in order, within
 * `maxPendingCalls` calls and `maxPendingBytes` frame bytes (past them it is refused with -32008). A call that
 * throws is answered with an error; a closed connection's waiting calls are dropped.
 */
import { ERROR, type Limits } from '../protocol/constants.js';
import type { ClientCall, RpcId } from '../protocol/frames.js';
import { idOf } from './reply-ids.js';
import type { Session } from './session.js';

/** Runs one accepted call: a promise when it finishes later (the connection is busy until then). */
export type Dispatch = (s: Session, call: ClientCall) => void | Promise<void>;

export class CallQueue {
  constructor(
    private readonly limits: Limits,
    private readonly dispatch: Dispatch,
  ) {}

  /** Run `call` (`bytes`: its frame's length) now, or queue it behind the unfinished one, or refuse it. */
  submit(s: Session, call: ClientCall, bytes: number): void {
    if (!s.busy) return this.run(s, call);
    const q = (s.queue ??= []);
    if (q.length >= this.limits.maxPendingCalls || s.queuedBytes + bytes > this.limits.maxPendingBytes) {
      return s.refuse({ code: ERROR.BUSY, message: 'too many calls waiting for an earlier one to finish', method: call.method, ...idOf(call) }, this.limits);
    }
    q.push({ call, bytes });
    s.queuedBytes += bytes;
  }

  /** Drop the calls waiting on a connection that closed. */
  drop(s: Session): void {
    s.queue = null;
    s.queuedBytes = 0;
  }

  /** Run one call; an async one makes the session busy until it ends, then the queue goes on. */
  private run(s: Session, call: ClientCall): void {
    let r: void | Promise<void>;
    try {
      r = this.dispatch(s, call);
    } catch (e) {
      return internalError(s, e, call, this.limits);
    }
    if (!r) return;
    s.busy = true;
    r.catch((e: unknown) => internalError(s, e, call, this.limits)).finally(() => {
      s.busy = false;
      this.runQueued(s);
    });
  }

  /** Run the calls that waited, until one is async again. A closed session's queue is gone already. */
  private runQueued(s: Session): void {
    const q = s.queue;
    while (q !== null && q.length > 0 && !s.busy && !s.closed) {
      const next = q.shift()!;
      s.queuedBytes -= next.bytes;
      this.run(s, next.call);
    }
    if (q !== null && q.length === 0) {
      s.queue = null;
      s.queuedBytes = 0;
    }
  }
}

/** Answer a call that threw. */
function internalError(s: Session, e: unknown, call: { method: string; id?: RpcId; params: object }, limits: Limits): void {
  // A payload nested so deeply that it cannot be re-encoded (JSON.stringify overflows its stack) is the client's fault.
  if (e instanceof RangeError) {
    return s.refuse({ code: ERROR.INVALID_PARAMS, message: 'params nested too deeply', method: call.method, ...idOf(call) }, limits);
  }
  s.refuse({ code: ERROR.INTERNAL, message: `internal error: ${(e as Error)?.message ?? String(e)}`, method: call.method, ...idOf(call) }, limits);
}
