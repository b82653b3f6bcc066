import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planGateway } from '../../../src/mesh/plan.js';
import { renderScrapeConfig } from '../../../src/render/prometheus.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const spec = (metrics: string) =>
  parseSpec(
    `name: m\ngateway:\n  http: 8081\n${metrics}  routes: [{service: api}]\nservices:\n  api: {static: ./site, port: 15090}\n`,
    'podvoy.yaml',
    fakeHost('/srv/m'),
  );
const pods = [
  { pod: 'm-api-1', service: 'api' },
  { pod: 'm-gateway-1', service: 'gateway' },
];

describe('the Prometheus scrape configuration', () => {
  it.each<[string, string, string]>([
    ['on loopback', '  metrics: 9102\n', '127.0.0.1:9102'],
    ['on every address, read on loopback', '  metrics: "0.0.0.0:9102"\n', '127.0.0.1:9102'],
    ['on one address', '  metrics: "10.0.0.5:9102"\n', '10.0.0.5:9102'],
  ])('scrapes the gateway where the spec publishes its metrics (%s), and every Envoy on the mesh network', (_name, metrics, target) => {
    expect(parse(renderScrapeConfig(spec(metrics), pods)).scrape_configs).toEqual([
      {
        job_name: 'm-gateway',
        metrics_path: '/stats/prometheus',
        scrape_interval: '10s',
        static_configs: [{ targets: [target], labels: { deployment: 'm', service: 'gateway', pod: 'm-gateway-1' } }],
      },
      {
        job_name: 'm-mesh',
        metrics_path: '/stats/prometheus',
        scrape_interval: '10s',
        static_configs: [
          // The app took 15090: the api's metrics listener moves to the next free port.
          { targets: ['m-api-1:15091'], labels: { deployment: 'm', service: 'api', pod: 'm-api-1' } },
          { targets: ['m-gateway-1:15090'], labels: { deployment: 'm', service: 'gateway', pod: 'm-gateway-1' } },
        ],
      },
    ]);
  });

  it('replaces the gateway when its metrics are published elsewhere (a host port of its pod)', () => {
    const revision = (metrics: string) => planGateway(spec(metrics), 'envoy:1', { stateDir: '/s', runDir: '/r' }, 'templates')!.revision;
    expect(new Set([revision(''), revision('  metrics: 9102\n'), revision('  metrics: 9103\n')]).size).toBe(3);
  });

  it('has no gateway job when the spec does not publish its metrics', () => {
    expect(parse(renderScrapeConfig(spec(''), pods)).scrape_configs.map((j: { job_name: string }) => j.job_name)).toEqual(['m-mesh']);
  });
});
