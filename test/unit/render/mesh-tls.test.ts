import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planDeployment } from '../../../src/render/deployment.js';
import { renderMeshFiles } from '../../../src/render/xds.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';
import { readTemplateSources } from '../../../src/pipeline.js';

const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'nginx:x', envoy: 'envoy:x' };
const sources = await readTemplateSources();

function rendered(mtls: string) {
  const spec = parseSpec(
    [
      'name: shop',
      mtls,
      'gateway: {http: 8080, routes: [{service: blog}]}',
      'services:',
      `  blog: {static: ./blog, upstreams: {api: 9001}, sidecar: {publish: 8081}${mtls === 'mtls: false' ? '' : ', allow: [gateway]'}}`,
      '  api: {static: ./api, health: /ok}',
      '',
    ].join('\n'),
    'shop/podvoy.yaml',
    fakeHost('/srv/shop'),
  );
  const deployment = planDeployment(spec, { images, roots, templates: sources });
  const pods = Object.fromEntries(deployment.pods.map((p) => [p.plan.service.name, p.rendered]));
  const mesh = renderMeshFiles(spec, { api: ['shop-api-1'], blog: ['shop-blog-1'] }, roots);
  const cds = parse(mesh.find((f) => f.envoy === 'blog' && f.kind === 'clusters')!.text) as { resources: Record<string, unknown>[] };
  return { pods, cluster: cds.resources[0]!, envoy: (s: string) => parse(pods[s]!.envoyYaml) as { static_resources: { listeners: Record<string, unknown>[] } } };
}

describe('rendering a mesh with and without mTLS', () => {
  it('keeps the plain path with mtls: false: no TLS, no RBAC, health checks of the app path', () => {
    const { pods, cluster, envoy } = rendered('mtls: false');
    expect(cluster).not.toHaveProperty('transport_socket');
    expect(JSON.stringify(cluster)).toContain('"path":"/ok"');
    const inbound = envoy('blog').static_resources.listeners.find((l) => l.name === 'inbound')!;
    expect(JSON.stringify(inbound)).not.toMatch(/tls|rbac/i);
    expect(pods.blog!.podYaml).not.toContain('mesh-tls');
    expect(pods.blog!.podYaml).toContain('containerPort: 10000\n      hostPort: 8081');
  });

  it('requires a client certificate on the inbound port, authorizes by SPIFFE ID, and keeps a published port plain', () => {
    const { pods, cluster, envoy } = rendered('mtls: {lifetime: 1h}');
    expect(JSON.stringify(cluster)).toContain('"path":"/.podvoy/health"');
    expect(JSON.stringify(cluster)).toContain('{"exact":"spiffe://shop.podvoy/svc/api"}');
    const listeners = envoy('blog').static_resources.listeners;
    const inbound = JSON.stringify(listeners.find((l) => l.name === 'inbound'));
    expect(inbound).toContain('"require_client_certificate":true');
    expect(inbound).toContain('"matcher":{"prefix":"spiffe://shop.podvoy/"}');
    expect(inbound).toContain('"principals":[{"authenticated":{"principal_name":{"exact":"spiffe://shop.podvoy/svc/gateway"}}}]');
    expect(inbound.indexOf('envoy.filters.http.health_check')).toBeLessThan(inbound.indexOf('envoy.filters.http.rbac'));
    const published = JSON.stringify(listeners.find((l) => l.name === 'published'));
    expect(published).toContain('"port_value":10001');
    expect(published).not.toMatch(/tls|rbac/i);
    expect(pods.blog!.podYaml).toContain('containerPort: 10001\n      hostPort: 8081');
    expect(pods.blog!.podYaml).toContain('hostPath: { path: "/var/lib/podvoy/shop/pki/id/blog", type: Directory }');
    // Without allow: any Envoy of the mesh, podvoy's own client identity left out.
    expect(JSON.stringify(envoy('api').static_resources.listeners)).toContain('{"prefix":"spiffe://shop.podvoy/svc/"}');
    expect(envoy('api').static_resources.listeners.map((l) => l.name)).not.toContain('published');
  });
});

describe('the inbound listener with mTLS and without', () => {
  it('answers with the same HTTP connection manager: security headers and compression, with authorization in front', () => {
    type Hcm = { typed_config: { route_config: unknown; http_filters: { name: string }[] } };
    const hcmOf = (mtls: string) => {
      const listener = rendered(mtls).envoy('api').static_resources.listeners.find((l) => l.name === 'inbound') as {
        filter_chains: { filters: Hcm[] }[];
      };
      return listener.filter_chains[0]!.filters[0]!.typed_config;
    };
    const plain = hcmOf('mtls: false');
    const secure = hcmOf('mtls: true');
    expect(secure.route_config).toEqual(plain.route_config);
    // api is a static site: nginx adds its security headers, with mTLS or without.
    expect(rendered('mtls: true').pods.api!.nginxConf).toContain('add_header x-content-type-options $podvoy_header_x_content_type_options always;');
    const names = (h: Hcm['typed_config']) => h.http_filters.map((f) => f.name);
    expect(names(secure)).toEqual(['envoy.filters.http.health_check', 'envoy.filters.http.rbac', ...names(plain)]);
    expect(names(plain)).toContain('envoy.filters.http.compressor.gzip');
  });
});
