/**
 * `channels()` over Redis (the server API's cluster-wide channel list): a node asks every node on the pub/sub channel
 * `sig:api:all`, and each answers with its own channels' counts on the asker's `sig:api:<nodeId>`. PUBLISH returns how
 * many subscribers got the question (every live node listens on `sig:api:all`, the asker too), so the asker knows how
 * many answers to wait for; it waits at most `timeoutMs`, then sums what came. Each node counts its channels with a
 * local member, presence or not, so the list covers members no roster holds.
 *
 * Nodes listen with PSUBSCRIBE on those exact names (no wildcard): `PUBSUB CHANNELS sig:*` then still lists exactly the
 * signal channels and identities some node follows (what operators and tests read), and these two per node show
 * in `PUBSUB NUMPAT`.
 */
import { sumCounts, type ChannelCount } from './broker.js';

/** The question and the answer, as they travel (after the `<nodeId> ` prefix every payload has). */
export type QueryMessage =
  | { t: 'chq'; q: string; node: string }
  /** `c`: `[name, members, presence]` per channel. */
  | { t: 'chr'; q: string; c: [string, number, number][] };

/** Topic every node subscribes to for questions. */
export const QUERY_TOPIC = 'api:all';
/** Topic a node subscribes to for the answers to its own questions. */
export const answerTopic = (nodeId: string): string => `api:${nodeId}`;

interface Pending {
  want: number;
  got: ChannelCount[][];
  done: () => void;
}

export class RedisChannelQuery {
  private seq = 0;
  /** Questions in flight (one per `channels()` call still waiting; each ends by its timeout at the latest). */
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly nodeId: string,
    /** PUBLISH on a topic; resolves with how many subscribers received it (0 when Redis is unreachable). */
    private readonly publish: (topic: string, msg: QueryMessage) => Promise<number>,
    /** This node's own counts. */
    private readonly local: () => ChannelCount[],
    private readonly timeoutMs: number,
  ) {}

  /** The topics this node listens on (`patterns` turns their Redis names into PSUBSCRIBE patterns). */
  get topics(): string[] {
    return [QUERY_TOPIC, answerTopic(this.nodeId)];
  }

  /** Every node's channels, summed (this node's alone while Redis is unreachable). */
  async channels(): Promise<ChannelCount[]> {
    const q = (this.seq++).toString(36);
    const own = this.local();
    const p: Pending = { want: 0, got: [own], done: () => {} };
    const finished = new Promise<void>((resolve) => (p.done = resolve));
    this.pending.set(q, p);
    try {
      const received = await this.publish(QUERY_TOPIC, { t: 'chq', q, node: this.nodeId });
      p.want = received - 1; // our own subscriber counted too
      if (p.got.length - 1 < p.want) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([finished, new Promise<void>((r) => (timer = setTimeout(r, this.timeoutMs)))]);
        clearTimeout(timer);
      }
      return sumCounts(p.got);
    } finally {
      this.pending.delete(q);
    }
  }

  /** A question or an answer from another node; `false` when `msg` is neither. */
  onMessage(msg: { t?: unknown }): boolean {
    if (msg.t === 'chq') {
      const m = msg as Extract<QueryMessage, { t: 'chq' }>;
      if (typeof m.node !== 'string' || typeof m.q !== 'string') return true;
      const c = this.local().map((x): [string, number, number] => [x.name, x.members, x.presence]);
      void this.publish(answerTopic(m.node), { t: 'chr', q: m.q, c });
      return true;
    }
    if (msg.t !== 'chr') return false;
    const m = msg as Extract<QueryMessage, { t: 'chr' }>;
    const p = typeof m.q === 'string' ? this.pending.get(m.q) : undefined;
    if (!p || !Array.isArray(m.c)) return true;
    const list: ChannelCount[] = [];
    for (const e of m.c) {
      if (Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]) && Number.isInteger(e[2])) {
        list.push({ name: e[0], members: e[1], presence: e[2] });
      }
    }
    p.got.push(list);
    if (p.got.length - 1 >= p.want && p.want > 0) p.done();
    return true;
  }
}

/** A Redis channel name as a PSUBSCRIBE pattern matching only itself (glob characters escaped). */
export function exactPattern(name: string): string {
  return name.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
