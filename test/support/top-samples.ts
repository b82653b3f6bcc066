import type { EnvoySample } from '../../src/engine/envoy/metrics.js';
import type { PodSample } from '../../src/engine/envoy/top.js';

export function sample(at: number, values: Record<string, number>): EnvoySample {
  return { at, values: new Map(Object.entries(values)), histograms: new Map() };
}

/** A mesh: the gateway calls blog and api, blog's two replicas call api. */
export const before: PodSample[] = [
  { pod: 'm-gateway-1', service: 'gateway', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'cluster.service_blog.upstream_rq_2xx': 0 }) },
  { pod: 'm-blog-1-0', service: 'blog', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'http.inbound.downstream_rq_2xx': 0 }) },
  { pod: 'm-blog-1-1', service: 'blog', sample: sample(0, { 'cluster.service_api.upstream_rq_2xx': 0, 'http.inbound.downstream_rq_2xx': 0 }) },
  { pod: 'm-api-1', service: 'api', sample: sample(0, { 'http.inbound.downstream_rq_2xx': 0 }) },
];
export const after: PodSample[] = [
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
