/** Scrape a server's `GET /metrics` and read it with a real Prometheus text parser (parse-prometheus-text-format). */
// @ts-expect-error no types shipped
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

export const parseProm = parsePrometheusTextFormat as (text: string) => Family[];

/** The families of `url`'s /metrics, by name (and the raw text). */
export async function scrape(url: string): Promise<{ families: Map<string, Family>; text: string; contentType: string | null }> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  return { families: new Map(parseProm(text).map((f) => [f.name, f])), text, contentType: res.headers.get('content-type') };
}

/** The value of a counter or gauge sample with these labels (0 when absent). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name);
  const s = f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return s?.value === undefined ? 0 : Number(s.value);
}

/** The `_count` of a histogram (0 when absent). */
export function countOf(families: Map<string, Family>, name: string): number {
  const s = families.get(name)?.metrics[0];
  return s?.count === undefined ? 0 : Number(s.count);
}
