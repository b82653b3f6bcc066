/**
 * Every timeout a spec accepts holds on every hop: a request the gateway may wait the longest route
 * timeout for is not cut earlier by the gateway's idle timeouts, the sidecar's routes, or nginx.
 * The spec refuses anything longer (routes.ts, ROUTE_TIMEOUT_MAX_MS); this test binds that limit
 * to the rendered configs, so that neither can change without the other.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTemplateSources } from '../../../src/pipeline.js';
import { planDeployment } from '../../../src/render/deployment.js';
import { SpecError } from '../../../src/errors.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { ROUTE_TIMEOUT_MAX_MS } from '../../../src/spec/routes.js';
import { fakeHost } from '../../support/fake-host.js';

const DIR = '/srv/timeouts';
const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'localhost/podvoy/nginx:1.22.1', envoy: 'localhost/podvoy/envoy:1.40.0' };
const mesh = (timeout: string) =>
  [
    'name: slow',
    'gateway:',
    '  http: 8080',
    '  https: 8443',
    `  routes: [{prefix: /api/, service: api, timeout: ${timeout}}, {service: blog, timeout: ${timeout}}]`,
    'services:',
    '  blog: {static: ./site, upstreams: {api: 9001}, proxy: {/api/: api}}',
    '  api: {image: ghcr.io/x/api:1, port: 3000, upstreams: {blog: 9002}}',
    '',
  ].join('\n');

/** Envoy durations ("15s", "0.5s") in milliseconds. */
function ms(duration: unknown): number {
  const match = /^([0-9.]+)s$/.exec(String(duration));
  if (!match) throw new Error(`not an Envoy duration: ${String(duration)}`);
  return Number(match[1]) * 1000;
}

/** Every value of a key named `key` anywhere in a parsed document, with where it was. */
function valuesOf(doc: unknown, key: string, at = ''): [string, unknown][] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => valuesOf(v, key, `${at}[${i}]`));
  if (doc === null || typeof doc !== 'object') return [];
  return Object.entries(doc).flatMap(([k, v]) => [...(k === key ? [[`${at}.${k}`, v] as [string, unknown]] : []), ...valuesOf(v, key, `${at}.${k}`)]);
}

describe('route timeouts', () => {
  it('refuse anything longer than the sidecars hold', () => {
    const error = (() => {
      try {
        parseSpec(mesh('16s'), 'p.yaml', fakeHost(DIR));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).problems.map((p) => p.message)).toEqual(
      Array(2).fill('16s is out of range. Use a timeout from 1ms to 15s: each sidecar ends a request after 15s, so a longer timeout could not hold.'),
    );
  });

  it('hold on every hop at the longest the spec accepts', async () => {
    expect(ROUTE_TIMEOUT_MAX_MS).toBe(15_000);
    const spec = parseSpec(mesh(`${ROUTE_TIMEOUT_MAX_MS}ms`), 'p.yaml', fakeHost(DIR));
    const deployment = planDeployment(spec, { images, roots, templates: await readTemplateSources() });
    const pods = deployment.pods.map((p) => p.rendered);
    const gateway = deployment.gateway!.rendered;
    const meshFiles = deployment.meshFiles(deployment.registry);

    // The gateway: each route waits exactly as long as the spec says.
    const gatewayRoutes = meshFiles.filter((f) => f.path.endsWith('rds.yaml') || f.path.endsWith('lds.yaml')).map((f) => parse(f.text) as unknown);
    const routeTimeouts = gatewayRoutes.flatMap((d) => valuesOf(d, 'route')).flatMap(([at, r]) => valuesOf(r, 'timeout').map(([k, v]) => [at + k, v] as const));
    expect(routeTimeouts.length).toBeGreaterThanOrEqual(spec.gateway!.routes.length);
    for (const [at, t] of routeTimeouts) expect(ms(t), at).toBe(ROUTE_TIMEOUT_MAX_MS);

    // No idle or stream timeout of any Envoy (gateway or sidecar) cuts such a request earlier, and
    // every sidecar route (inbound and to upstreams) waits at least as long.
    const envoys = [gateway.envoyYaml, ...pods.map((p) => p.envoyYaml), ...meshFiles.map((f) => f.text)].map((t) => parse(t) as unknown);
    const sidecarRoutes = pods
      .map((p) => parse(p.envoyYaml) as unknown)
      .flatMap((d) => valuesOf(d, 'route'))
      .flatMap(([at, r]) => valuesOf(r, 'timeout').map(([k, v]) => [at + k, v] as const));
    expect(sidecarRoutes.length).toBeGreaterThanOrEqual(4);
    for (const [at, t] of sidecarRoutes) expect(ms(t), at).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_MAX_MS);
    for (const key of ['stream_idle_timeout', 'idle_timeout', 'request_timeout', 'max_stream_duration']) {
      for (const [at, t] of envoys.flatMap((d) => valuesOf(d, key))) {
        if (ms(t) !== 0) expect(ms(t), `${key} at ${at}`).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_MAX_MS);
      }
    }

    // nginx passes proxied requests on with its defaults (60s) unless the config says otherwise.
    const nginx = pods.map((p) => p.nginxConf).filter((c): c is string => c !== undefined);
    expect(nginx).toHaveLength(1);
    for (const [, value] of nginx[0]!.matchAll(/proxy_(?:read|send|connect)_timeout\s+(\d+)s?;/g)) {
      expect(Number(value) * 1000).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_MAX_MS);
    }
  });
});
