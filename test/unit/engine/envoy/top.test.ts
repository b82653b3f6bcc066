import { describe, expect, it } from 'vitest';
import type { EnvoySample } from '../../../../src/engine/envoy/metrics.js';
import { topRows, type PodSample } from '../../../../src/engine/envoy/top.js';
import { formatTop } from '../../../../src/cli/commands/top.js';

function sample(at: number, values: Record<string, number>): EnvoySample {
  return { at, values: new Map(Object.entries(values)), histograms: new Map() };
}

/** A mesh: the gateway calls blog and api, blog's two replicas call api. */
const before: PodSample[] = [
  { pod: 'm-gateway-1', service: 'gateway', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'cluster.service_blog.upstream_rq_2xx': 0 }) },
  { pod: 'm-blog-1-0', service: 'blog', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'http.inbound.downstream_rq_2xx': 0 }) },
  { pod: 'm-blog-1-1', service: 'blog', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'http.inbound.downstream_rq_2xx': 0 }) },
  { pod: 'm-api-1', service: 'api', sample: sample(0, { 'http.inbound.downstream_rq_2xx': 0 }) },
];
const after: PodSample[] = [
  {
    pod: 'm-gateway-1',
    service: 'gateway',
    sample: sample(10_000, { 'cluster.service_api.upstream_rq_2xx': 90, 'cluster.service_api.upstream_rq_5xx': 10, 'cluster.service_blog.upstream_rq_2xx': 50 }),
  },
  { pod: 'm-blog-1-0', service: 'blog', sample: sample(10_000, { 'cluster.service_api.upstream_rq_2xx': 20, 'http.inbound.downstream_rq_2xx': 25 }) },
  { pod: 'm-blog-1-1', service: 'blog', sample: sample(10_000, { 'cluster.service_api.upstream_rq_2xx': 30, 'http.inbound.downstream_rq_2xx': 25 }) },
  { pod: 'm-api-1', service: 'api', sample: sample(10_000, { 'http.inbound.downstream_rq_2xx': 140, 'http.inbound.downstream_rq_5xx': 10 }) },
  // Started after the first sample: left out of this window.
  { pod: 'm-api-2', service: 'api', sample: sample(10_000, { 'http.inbound.downstream_rq_2xx': 999 }) },
];

describe('top rows', () => {
  it('a row per service and per place that sees it, replicas added up', () => {
    expect(topRows(before, after, false).map((r) => [r.service, r.view, r.from, r.rps, r.successRate])).toEqual([
      ['api', 'gateway', 'gateway', 10, 0.9],
      ['api', 'caller', 'blog', 5, 1],
      ['api', 'inbound', 'api', 15, 140 / 150],
      ['blog', 'gateway', 'gateway', 5, 1],
      ['blog', 'inbound', 'blog', 5, 1],
    ]);
  });

  it('with wide, a row per pod', () => {
    expect(topRows(before, after, true).map((r) => [r.service, r.view, r.pod, r.rps])).toEqual([
      ['api', 'gateway', 'm-gateway-1', 10],
      ['api', 'caller', 'm-blog-1-0', 2],
      ['api', 'caller', 'm-blog-1-1', 3],
      ['api', 'inbound', 'm-api-1', 15],
      ['blog', 'gateway', 'm-gateway-1', 5],
      ['blog', 'inbound', 'm-blog-1-0', 2.5],
      ['blog', 'inbound', 'm-blog-1-1', 2.5],
    ]);
  });

  it('leaves out an Envoy that did not answer', () => {
    const silent = after.map((p) => (p.service === 'gateway' ? { pod: p.pod, service: p.service } : p));
    expect(topRows(before, silent, false).some((r) => r.view === 'gateway')).toBe(false);
  });

  it('prints a table like linkerd viz stat', () => {
    const rows = topRows(before, after, false);
    expect(formatTop({ spec: 'm', windowSeconds: 10, rows }, false)).toBe(
      [
        'm: the last 10.0 s',
        'SERVICE  FROM            SUCCESS  RPS   P50  P95  P99  CONN',
        'api      gateway         90.00%   10.0  -    -    -    0',
        'api      blog (sidecar)  100.00%  5.0   -    -    -    0',
        'api      (own sidecar)   93.33%   15.0  -    -    -    0',
        'blog     gateway         100.00%  5.0   -    -    -    0',
        'blog     (own sidecar)   100.00%  5.0   -    -    -    0',
        '',
      ].join('\n'),
    );
  });
});
