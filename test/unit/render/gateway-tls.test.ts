import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTemplateSources } from '../../../src/pipeline.js';
import { planDeployment } from '../../../src/render/deployment.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'nginx:x', envoy: 'envoy:x' };
const sources = await readTemplateSources();

function deployment(tls: string) {
  const spec = parseSpec(
    [
      'name: shop',
      'mtls: false',
      'gateway:',
      '  http: 8080',
      '  https: 8443',
      `  tls: ${tls}`,
      '  routes: [{host: shop.example.com, service: blog}]',
      'services: {blog: {static: ./blog}}',
      '',
    ].join('\n'),
    'shop/podvoy.yaml',
    fakeHost('/srv/shop'),
  );
  return planDeployment(spec, { images, roots, templates: sources });
}

type Listener = { name: string; filter_chains: { filters: { typed_config: Record<string, unknown> }[]; transport_socket?: { typed_config: { common_tls_context: Record<string, unknown> } } }[] };
const listenersOf = (text: string) => (parse(text) as { resources: Listener[] }).resources;
const httpRoutes = (listeners: Listener[]) =>
  (listeners.find((l) => l.name === 'http')!.filter_chains[0]!.filters[0]!.typed_config.route_config as { virtual_hosts: { routes: object[] }[] }).virtual_hosts[0]!.routes;

describe('the gateway with gateway.tls.acme', () => {
  const acme = deployment('{acme: {email: ops@example.com}}');

  it('answers each pending HTTP-01 token before the redirect, and any other token with 404', () => {
    const file = acme.acme!.listeners([{ token: 'tok_en-1234567890abcdef', keyAuthorization: 'tok_en-1234567890abcdef.thumb' }]);
    expect(file).toMatchObject({ envoy: 'gateway', kind: 'listeners', path: '/var/lib/podvoy/shop/xds/gateway/lds.yaml' });
    expect(httpRoutes(listenersOf(file.text))).toEqual([
      {
        match: { path: '/.well-known/acme-challenge/tok_en-1234567890abcdef' },
        direct_response: { status: 200, body: { inline_string: 'tok_en-1234567890abcdef.thumb' } },
      },
      { match: { prefix: '/.well-known/acme-challenge/' }, direct_response: { status: 404 } },
      { match: { prefix: '/' }, redirect: { https_redirect: true, port_redirect: 8443 } },
    ]);
  });

  it('renders the same listener file for no challenges as the mesh files do', () => {
    const mesh = acme.meshFiles({ blog: ['shop-blog-1'] }).find((f) => f.kind === 'listeners')!;
    expect(acme.acme!.listeners([])).toEqual(mesh);
  });

  it('takes the HTTPS certificate through SDS from the watched TLS directory, which the pod mounts', () => {
    const https = listenersOf(acme.acme!.listeners([]).text).find((l) => l.name === 'https')!;
    expect(https.filter_chains[0]!.transport_socket!.typed_config.common_tls_context).toEqual({
      alpn_protocols: ['h2', 'http/1.1'],
      tls_certificate_sds_secret_configs: [
        {
          name: 'gateway_certificate',
          sds_config: {
            resource_api_version: 'V3',
            path_config_source: { path: '/etc/podvoy/tls/sds-certificate.yaml', watched_directory: { path: '/etc/podvoy/tls' } },
          },
        },
      ],
    });
    const pod = parse(acme.gateway!.rendered.podYaml) as { spec: { volumes: { name: string; hostPath: object }[] } };
    expect(pod.spec.volumes.find((v) => v.name === 'tls')).toEqual({ name: 'tls', hostPath: { path: '/var/lib/podvoy/shop/tls', type: 'Directory' } });
    expect(parse(acme.acme!.sds({ cert: 'acme-0a.pem', key: 'acme-0a-key.pem' }).text)).toMatchObject({
      resources: [
        {
          name: 'gateway_certificate',
          tls_certificate: { certificate_chain: { filename: '/etc/podvoy/tls/acme-0a.pem' }, private_key: { filename: '/etc/podvoy/tls/acme-0a-key.pem' } },
        },
      ],
    });
  });

  it('leaves a gateway with its own files as it was: static files, no challenge routes', () => {
    const own = deployment('{cert: ./tls/cert.pem, key: ./tls/key.pem}');
    expect(own.acme).toBeUndefined();
    const listeners = listenersOf(own.meshFiles({}).find((f) => f.kind === 'listeners')!.text);
    expect(httpRoutes(listeners)).toEqual([{ match: { prefix: '/' }, redirect: { https_redirect: true, port_redirect: 8443 } }]);
    expect(listeners.find((l) => l.name === 'https')!.filter_chains[0]!.transport_socket!.typed_config.common_tls_context).toHaveProperty('tls_certificates');
  });
});
