import { CLIENT_ERROR } from '../protocol/constants.js';
import { encodeCall, type ServerResponse } from '../protocol/frames.js';
import { SignalError } from './errors.js';
import type { Payload } from './types.js';

/** Runs with a request's result before its promise resolves (synchronously, as the reply is read). */
type OnResult = (result: unknown) => void;

/** Settles a waiting request: with the server's reply, or rejected with a SignalError (timeout, connection gone). */
type Settle = (r: ServerResponse | SignalError) => void;

/**
 * Request/reply correlation (in the manner of Phoenix's `push.js`): each request gets a numeric id, and settles
 * once, with the reply carrying that id, with `SIGNAL_ERR_TIMEOUT` after `timeout` ms, or with the error given to
 * `rejectAll` (the connection went). A reply nobody waits for (timed out, or an id never sent) is ignored.
 */
export class Requests {
  /** The requests waiting, by id. */
  readonly #pending = new Map<number, Settle>();
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
  call(method: string, params: Payload, onResult?: OnResult): Promise<unknown> {
    if (!this.#isOpen()) return Promise.reject(new SignalError(CLIENT_ERROR.CLOSED, 'not connected', { method }));
    const { id, reply } = this.start(method, typeof params.id === 'string' ? params.id : undefined, onResult);
    this.#send?.(encodeCall(method, params, id));
    return reply;
  }

  /** Start a request: its id (to send) and the promise of its result. */
  start(method: string, channel?: string, onResult?: OnResult): { id: number; reply: Promise<unknown> } {
    const id = ++this.#seq;
    const pending = this.#pending;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => settle(new SignalError(CLIENT_ERROR.TIMEOUT, `${method} timed out`, { method })), this.#timeout);
      const settle: Settle = (r) => {
        pending.delete(id);
        clearTimeout(timer);
        if (r instanceof SignalError) reject(r);
        else if ('error' in r) reject(SignalError.fromRpc(r.error.code, r.error.message, { method, channel }));
        else {
          onResult?.(r.result);
          resolve(r.result);
        }
      };
      pending.set(id, settle);
    });
    return { id, reply };
  }

  /** A reply from the server: settles its request; `false` when none waits for this id. */
  settle(r: ServerResponse): boolean {
    const p = this.#pending.get(r.id as number); // ids are numbers: a string id matches none
    p?.(r);
    return !!p;
  }

  /** Settle every waiting request with `err`. */
  rejectAll(err: SignalError): void {
    for (const settle of this.#pending.values()) settle(err);
  }
}
