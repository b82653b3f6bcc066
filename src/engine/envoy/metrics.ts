import { adminGet } from './http.js';

/**
 * Samples of an Envoy's counters, gauges and histograms, read in one admin request. Rates and
 * percentiles over a window come from the difference of two samples (src/engine/envoy/signals.ts),
 * never from totals since Envoy started.
 */

/** One cumulative histogram bucket: how many values were at most `le` (milliseconds for times). */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

export interface EnvoySample {
  /** When the sample was read, in milliseconds (monotonic clock). */
  readonly at: number;
  /** Counters and gauges by their full name, e.g. `cluster.service_api.upstream_rq_2xx`. */
  readonly values: ReadonlyMap<string, number>;
  /** Cumulative buckets since start, by the histogram's full name. */
  readonly histograms: ReadonlyMap<string, readonly Bucket[]>;
}

interface StatsJson {
  stats?: ({ name: string; value?: number } | { histograms: { name: string; buckets?: { upper_bound: number; cumulative?: number }[] }[] })[];
}

/** Parses `/stats?format=json&histogram_buckets=cumulative`. */
export function parseStatsJson(json: StatsJson, at: number): EnvoySample {
  const values = new Map<string, number>();
  const histograms = new Map<string, Bucket[]>();
  for (const entry of json.stats ?? []) {
    if ('histograms' in entry) {
      for (const h of entry.histograms) {
        histograms.set(
          h.name,
          (h.buckets ?? []).map((b) => ({ le: Number(b.upper_bound), count: Number(b.cumulative ?? 0) })),
        );
      }
    } else {
      values.set(entry.name, Number(entry.value ?? 0));
    }
  }
  return { at, values, histograms };
}

/** The stats podvoy's golden signals are made of: the service clusters and the inbound listener. */
export const SIGNAL_STATS_FILTER = String.raw`^(cluster\.service_[^.]+|http\.inbound)\.(upstream_rq_[1-5]xx|downstream_rq_[1-5]xx|upstream_rq_time|downstream_rq_time|upstream_cx_active|downstream_cx_active)$`;

/**
 * Reads one sample through an Envoy's admin socket. Histograms are merged from the workers at
 * each stats flush (every 5 s by default), so their deltas are as recent as the last flush;
 * counters and gauges are current.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--stats?format=json
 */
export async function readSample(socket: string, now: () => number = () => performance.now()): Promise<EnvoySample> {
  const res = await adminGet(
    socket,
    `/stats?format=json&histogram_buckets=cumulative&filter=${encodeURIComponent(SIGNAL_STATS_FILTER)}`,
  );
  if (res.status !== 200) throw new Error(`admin /stats answered ${res.status}`);
  return parseStatsJson(JSON.parse(res.body.toString('utf8')) as StatsJson, now());
}
