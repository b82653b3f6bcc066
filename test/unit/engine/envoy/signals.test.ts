import { describe, expect, it } from 'vitest';
import { parseStatsJson, type Bucket, type EnvoySample } from '../../../../src/engine/envoy/metrics.js';
import { INBOUND_SCOPE, clusterScope, deltaOf, quantile, signalsOf, sumDeltas } from '../../../../src/engine/envoy/signals.js';

const buckets = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

function sample(at: number, values: Record<string, number>, histograms: Record<string, [number, number][]> = {}): EnvoySample {
  return {
    at,
    values: new Map(Object.entries(values)),
    histograms: new Map(Object.entries(histograms).map(([name, pairs]) => [name, buckets(pairs)])),
  };
}

describe('quantile', () => {
  it.each<[string, number, [number, number][], number | null]>([
    ['nothing answered', 0.5, [[1, 0], [5, 0]], null],
    ['the middle of the one bucket', 0.5, [[0.5, 0], [1, 10], [5, 10]], 0.75],
    ['interpolated in the second bucket', 0.75, [[1, 4], [5, 8], [10, 8]], 3],
    ['the top of the first bucket', 0.99, [[10, 100], [25, 100]], 9.9],
    ['past the last finite bound', 0.99, [[10, 1], [25, 1], [Infinity, 100]], 25],
  ])('%s', (_name, q, pairs, expected) => {
    const value = quantile(q, buckets(pairs));
    if (expected === null) expect(value).toBeNull();
    else expect(value).toBeCloseTo(expected, 6);
  });
});

describe('signals over a window', () => {
  const before = sample(
    1000,
    { 'cluster.service_api.upstream_rq_2xx': 100, 'cluster.service_api.upstream_rq_5xx': 10, 'cluster.service_api.upstream_cx_active': 2 },
    { 'cluster.service_api.upstream_rq_time': [[1, 50], [5, 110], [10, 110]] },
  );
  const after = sample(
    11_000,
    {
      'cluster.service_api.upstream_rq_2xx': 280,
      'cluster.service_api.upstream_rq_4xx': 0,
      'cluster.service_api.upstream_rq_5xx': 30,
      'cluster.service_api.upstream_cx_active': 3,
    },
    { 'cluster.service_api.upstream_rq_time': [[1, 50], [5, 310], [10, 310]] },
  );

  it('counts only what was answered between the samples, not since start', () => {
    expect(signalsOf(deltaOf(clusterScope('service_api'), before, after))).toEqual({
      requests: 200,
      successes: 180,
      rps: 20,
      successRate: 0.9,
      latencyMs: { p50: 3, p95: 4.8, p99: 4.96 },
      connections: 3,
    });
  });

  it('counts from 0 when a counter went down (the Envoy restarted in between)', () => {
    const restarted = sample(11_000, { 'http.inbound.downstream_rq_2xx': 7 });
    expect(signalsOf(deltaOf(INBOUND_SCOPE, sample(1000, { 'http.inbound.downstream_rq_2xx': 500 }), restarted))).toMatchObject({
      requests: 7,
      successRate: 1,
    });
  });

  it('reports no success rate and no latency when nothing was answered', () => {
    expect(signalsOf(deltaOf(INBOUND_SCOPE, sample(0, {}), sample(5000, {})))).toEqual({
      requests: 0,
      successes: 0,
      rps: 0,
      successRate: null,
      latencyMs: null,
      connections: 0,
    });
  });

  it('adds the replicas of a caller: counts, buckets and connections', () => {
    const one = deltaOf(clusterScope('service_api'), before, after);
    const sum = signalsOf(sumDeltas([one, one]));
    expect(sum).toMatchObject({ requests: 400, rps: 40, successRate: 0.9, connections: 6 });
    expect(sum.latencyMs).toEqual(signalsOf(one).latencyMs);
  });
});

describe('parseStatsJson', () => {
  it('reads counters, gauges and cumulative histogram buckets', () => {
    const parsed = parseStatsJson(
      {
        stats: [
          { name: 'http.inbound.downstream_rq_2xx', value: 20 },
          { name: 'http.inbound.downstream_cx_active', value: 1 },
          {
            histograms: [
              { name: 'http.inbound.downstream_rq_time', buckets: [{ upper_bound: 0.5, cumulative: 28 }, { upper_bound: 1, cumulative: 36 }] },
            ],
          },
        ],
      },
      42,
    );
    expect(parsed.at).toBe(42);
    expect([...parsed.values]).toEqual([
      ['http.inbound.downstream_rq_2xx', 20],
      ['http.inbound.downstream_cx_active', 1],
    ]);
    expect(parsed.histograms.get('http.inbound.downstream_rq_time')).toEqual([{ le: 0.5, count: 28 }, { le: 1, count: 36 }]);
  });
});
