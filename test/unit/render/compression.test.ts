import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTemplateSources } from '../../../src/pipeline.js';
import { planDeployment } from '../../../src/render/deployment.js';
import { COMPRESSION, NGINX_COMPRESSION } from '../../../src/render/compression.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const envoy = 'localhost/podvoy/envoy:1.40.0';
const WITH_BROTLI = 'localhost/podvoy/nginx:1.22.1-brotli';

const SPEC = `name: shop
gateway:
  http: 8081
  routes: [{prefix: /api/, service: api}, {service: web}]
mtls: false
services:
  web: {static: ./site}
  api: {image: ghcr.io/x/api:1, port: 8080}
`;

async function render(nginx: string) {
  const spec = parseSpec(SPEC, 'podvoy.yaml', fakeHost('/srv/shop'));
  const deployment = planDeployment(spec, { images: { nginx, envoy }, roots, templates: await readTemplateSources() });
  const pod = (service: string) => deployment.pods.find((p) => p.plan.service.name === service)!.rendered;
  return { web: pod('web'), api: pod('api') };
}

type Hcm = { route_config: { virtual_hosts: { routes: object[] }[] }; http_filters: { name: string }[] };
/** The inbound listener's HTTP connection manager of a sidecar config. */
function inbound(envoyYaml: string): Hcm {
  const config = parse(envoyYaml) as { static_resources: { listeners: { name: string; filter_chains: { filters: { typed_config: Hcm }[] }[] }[] } };
  return config.static_resources.listeners.find((l) => l.name === 'inbound')!.filter_chains[0]!.filters[0]!.typed_config;
}
const filterNames = (envoyYaml: string) => inbound(envoyYaml).http_filters.map((f) => f.name);
const compressorNames = COMPRESSION.compressors.map((c) => c.filter);

describe('who compresses', () => {
  it('a static site whose nginx has the brotli modules: nginx, and its sidecar asks for ranges uncompressed', async () => {
    const { web } = await render(WITH_BROTLI);
    expect(filterNames(web.envoyYaml)).toEqual(['envoy.filters.http.router']);
    expect(inbound(web.envoyYaml).route_config.virtual_hosts[0]!.routes[0]).toEqual({
      match: { prefix: '/', headers: [{ name: 'range', present_match: true }] },
      request_headers_to_remove: ['accept-encoding'],
      route: { cluster: 'app', timeout: '15s' },
    });
    const nginx = web.nginxConf!;
    expect(nginx.indexOf('load_module /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so;')).toBeLessThan(nginx.indexOf('events {'));
    expect(nginx).toContain('load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;');
    for (const line of ['brotli on;', 'brotli_static on;', 'gzip on;', 'gzip_static on;', 'gzip_vary on;', 'gzip_proxied any;']) expect(nginx).toContain(`    ${line}\n`);
    expect(nginx).toContain(`    brotli_comp_level ${NGINX_COMPRESSION.brotliLevel};\n    brotli_window 256k;\n    brotli_min_length ${COMPRESSION.minBytes};\n`);
    expect(nginx).toContain(`    gzip_comp_level ${NGINX_COMPRESSION.gzipLevel};\n    gzip_min_length ${COMPRESSION.minBytes};\n`);
    // The same types as the sidecar's, text/html being nginx's own default.
    expect(nginx).toContain(`    gzip_types ${COMPRESSION.types.filter((t) => t !== 'text/html').join(' ')};\n`);
  });

  it.each(['docker.io/library/nginx:1.27', 'localhost/podvoy/nginx:1.22.1', 'example.com/podvoy/nginx:1.22.1-brotli'])(
    'a static site on %s (no brotli modules known): the sidecar, and nginx only sends .gz files',
    async (image) => {
      const { web } = await render(image);
      expect(filterNames(web.envoyYaml)).toEqual([...compressorNames, 'envoy.filters.http.router']);
      expect(inbound(web.envoyYaml).route_config.virtual_hosts[0]!.routes).toHaveLength(1);
      expect(web.nginxConf).not.toMatch(/load_module|brotli|gzip on;/);
      expect(web.nginxConf).toContain('    gzip_static on;\n');
    },
  );

  it('an app: its sidecar, whatever nginx image the spec runs', async () => {
    const { api } = await render(WITH_BROTLI);
    expect(api.nginxConf).toBeUndefined();
    expect(filterNames(api.envoyYaml)).toEqual([...compressorNames, 'envoy.filters.http.router']);
    expect(inbound(api.envoyYaml).route_config.virtual_hosts[0]!.routes).toHaveLength(1);
  });
});
