import { CLIENT_ERROR } from '../protocol/constants.js';
import { encodeCall, type ServerResponse } from '../protocol/frames.js';
import { SignalError } from './errors.js';
import type { Payload } from './types.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: SignalError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** What the request was about, put on its SignalError. */
  about: { method: string; channel?: string };
  /** Runs with the result before the promise resolves (synchronously, as the reply is read). */
  onResult?: (result: unknown) => void;
}

/**
 * Request/reply correlation (in the manner of Phoenix's `push.js`): each request gets a numeric id, and settles
 * once, with the reply carrying that id, with `SIGNAL_ERR_TIMEOUT` after `timeout` ms, or with the error given to
 * `rejectAll` (the connection went). A reply nobody waits for (timed out, or an id never sent) is ignored.
 */
export class Requests {
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  readonly #timeout: number;
  readonly #send: ((text: string) => void) | undefined;
  readonly #isOpen: () => boolean;

  /** `send` writes an encoded request (through the outgoing queue), while `isOpen`. */
  constructor(timeout: number, send?: (text: string) => void, isOpen: () => boolean = () => true) {
    this.#timeout = timeout;
    this.#send = send;
    this.#isOpen = isOpen;
  }

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Send a request (`params.id` names the channel it is about); refused with `SIGNAL_ERR_CLOSED` when not open.
   * `onResult` runs with the result as the reply is read, before the promise resolves.
   */
  call(method: string, params: Payload, onResult?: (result: unknown) => void): Promise<unknown> {
    if (!this.#isOpen()) return Promise.reject(new SignalError(CLIENT_ERROR.CLOSED, 'not connected', { method }));
    const { id, reply } = this.start(method, typeof params.id === 'string' ? params.id : undefined, onResult);
    this.#send?.(encodeCall(method, params, id));
    return reply;
  }

  /** Start a request: its id (to send) and the promise of its result. */
  start(method: string, channel?: string, onResult?: (result: unknown) => void): { id: number; reply: Promise<unknown> } {
    const id = ++this.#seq;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalError(CLIENT_ERROR.TIMEOUT, `${method} timed out`, { method }));
      }, this.#timeout);
      this.#pending.set(id, { resolve, reject, timer, about: { method, channel }, onResult });
    });
    return { id, reply };
  }

  /** A reply from the server: settles its request; `false` when none waits for this id. */
  settle(r: ServerResponse): boolean {
    const p = this.#pending.get(r.id as number); // ids are numbers: a string id matches none
    if (!p) return false;
    this.#pending.delete(r.id as number);
    clearTimeout(p.timer);
    if ('error' in r) p.reject(SignalError.fromRpc(r.error.code, r.error.message, p.about));
    else {
      p.onResult?.(r.result);
      p.resolve(r.result);
    }
    return true;
  }

  /** Settle every waiting request with `err`. */
  rejectAll(err: SignalError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(err);
    }
  }
}
