import type { Bucket, EnvoySample } from './metrics.js';

/**
 * The golden signals of one view of a service over a window, from two samples of the same
 * Envoy (pure: no I/O). Success counts every answer but a 5xx, as Linkerd's `viz stat` does.
 */
export interface Signals {
  /** Answers in the window (1xx-5xx). */
  readonly requests: number;
  /** Answers that were not 5xx. */
  readonly successes: number;
  /** Answers per second over the window. */
  readonly rps: number;
  /** successes / requests; null when nothing was answered. */
  readonly successRate: number | null;
  /** Latency percentiles in milliseconds; null when nothing was answered. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number } | null;
  /** Open connections at the end of the window. */
  readonly connections: number;
}

/** Where a view's stats live: a service's cluster in a caller, or a sidecar's inbound listener. */
export interface StatScope {
  /** e.g. `cluster.service_api` or `http.inbound`. */
  readonly prefix: string;
  /** `upstream` for a cluster, `downstream` for a listener. */
  readonly side: 'upstream' | 'downstream';
}

export function clusterScope(cluster: string): StatScope {
  return { prefix: `cluster.${cluster}`, side: 'upstream' };
}

export const INBOUND_SCOPE: StatScope = { prefix: 'http.inbound', side: 'downstream' };

/** The counters and the histogram of a scope, as the difference of two samples. */
export interface Delta {
  readonly byClass: readonly number[];
  readonly buckets: readonly Bucket[];
  readonly connections: number;
  readonly seconds: number;
}

/** Envoy restarted (or a pod was replaced) between the samples when a counter went down: count from 0. */
function grown(after: number, before: number): number {
  return after >= before ? after - before : after;
}

export function deltaOf(scope: StatScope, before: EnvoySample, after: EnvoySample): Delta {
  const name = (stat: string) => `${scope.prefix}.${scope.side}_${stat}`;
  const byClass = [1, 2, 3, 4, 5].map((c) => grown(after.values.get(name(`rq_${c}xx`)) ?? 0, before.values.get(name(`rq_${c}xx`)) ?? 0));
  const earlier = new Map((before.histograms.get(name('rq_time')) ?? []).map((b) => [b.le, b.count]));
  const buckets = (after.histograms.get(name('rq_time')) ?? []).map((b) => ({ le: b.le, count: grown(b.count, earlier.get(b.le) ?? 0) }));
  return { byClass, buckets, connections: after.values.get(name('cx_active')) ?? 0, seconds: (after.at - before.at) / 1000 };
}

/** Adds deltas of the same view from several Envoys (the replicas of a caller). */
export function sumDeltas(deltas: readonly Delta[]): Delta {
  const bounds = new Map<number, number>();
  for (const d of deltas) for (const b of d.buckets) bounds.set(b.le, (bounds.get(b.le) ?? 0) + b.count);
  return {
    byClass: [0, 1, 2, 3, 4].map((i) => deltas.reduce((sum, d) => sum + (d.byClass[i] ?? 0), 0)),
    buckets: [...bounds].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count })),
    connections: deltas.reduce((sum, d) => sum + d.connections, 0),
    seconds: Math.max(0, ...deltas.map((d) => d.seconds)),
  };
}

/**
 * The value below which a fraction `q` of the values fall, interpolated linearly inside the
 * bucket that holds it, as Prometheus' histogram_quantile does. Values past the last finite
 * bound are reported as that bound.
 */
export function quantile(q: number, buckets: readonly Bucket[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower;
      const inBucket = b.count - below;
      return inBucket === 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  // Envoy's JSON lists finite bounds only: the rest are above the last one.
  return lower;
}

export function signalsOf(delta: Delta): Signals {
  const requests = delta.byClass.reduce((a, b) => a + b, 0);
  const successes = requests - (delta.byClass[4] ?? 0);
  const p = (q: number) => quantile(q, delta.buckets);
  const p50 = p(0.5);
  return {
    requests,
    successes,
    rps: delta.seconds > 0 ? requests / delta.seconds : 0,
    successRate: requests ? successes / requests : null,
    latencyMs: p50 === null ? null : { p50, p95: p(0.95)!, p99: p(0.99)! },
    connections: delta.connections,
  };
}
