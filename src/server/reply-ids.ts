/**
 * The `id`s a reply or a refusal carries: the request's JSON-RPC id (none for a notification) and, for a call about
 * a channel, that channel's name (`signal.error`'s `id`).
 */
import type { RpcId } from '../protocol/frames.js';

/** `{ id }` for a request, `{}` for a notification. */
export function rid(id: RpcId | undefined): { id?: RpcId } {
  return id === undefined ? {} : { id };
}

/** The request id and the channel a call names (`params.id`), when it has them. */
export function idOf(call: { id?: RpcId; params: object }): { id?: RpcId; channel?: string } {
  const out: { id?: RpcId; channel?: string } = rid(call.id);
  const channel = (call.params as { id?: unknown }).id;
  if (typeof channel === 'string') out.channel = channel;
  return out;
}
