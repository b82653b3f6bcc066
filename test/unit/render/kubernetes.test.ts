import { describe, expect, it } from 'vitest';
import { KubernetesRenderError } from '../../../src/errors.js';
import { parse } from 'yaml';
import { probePort, renderKubernetes, renderMeshTlsSecret, type KubeObject } from '../../../src/render/kubernetes.js';
import { renderSdsCertificate, renderSdsTrust } from '../../../src/render/mesh-tls.js';
import { compileTemplates } from '../../../src/render/templates.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';
import { readTemplateSources } from '../../../src/pipeline.js';

const sources = await readTemplateSources();
const templates = compileTemplates(sources);
const images = { nginx: 'localhost/podvoy/nginx:1', envoy: 'localhost/podvoy/envoy:1' };

function render(text: string) {
  const spec = parseSpec(text, 'k.yaml', fakeHost('/srv/k'));
  const sites = Object.fromEntries(spec.services.map((s) => [s.name, `localhost/podvoy/k-${s.name}:abc`]));
  return renderKubernetes({ spec, images: { ...images, sites }, templates, sources });
}

function errorOf(text: string): KubernetesRenderError {
  try {
    render(text);
  } catch (error) {
    if (error instanceof KubernetesRenderError) return error;
    throw error;
  }
  throw new Error('rendered');
}

const find = (objects: readonly KubeObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as Record<string, any>;

const MESH = `name: k
gateway:
  http: 30080
  https: 30443
  routes: [{service: web}]
services:
  web: {static: ./site, replicas: 2, upstreams: {api: 9001}}
  api: {image: "ghcr.io/x/api:1", port: 3000, env: {MODE: prod}}
`;

describe('Kubernetes manifests', () => {
  it('runs Envoy as a native sidecar, ready from its own /ready, with least privilege', () => {
    const { objects } = render(MESH);
    const pod = find(objects, 'Deployment', 'web').spec.template.spec;
    expect(pod.initContainers.map((c: any) => [c.name, c.restartPolicy, c.readinessProbe.httpGet, c.startupProbe.httpGet])).toEqual([
      ['envoy', 'Always', { path: '/ready', port: 'probe' }, { path: '/ready', port: 'probe' }],
    ]);
    expect(pod.initContainers[0].ports).toEqual([{ name: 'envoy', containerPort: 10000 }, { name: 'probe', containerPort: 9902 }]);
    // The group that may read the mesh identity's Secret (mTLS is on in a mesh).
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 101 });
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits).toBeDefined();
    }
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: '/.podvoy/health', port: 9902 });
    expect(find(objects, 'Deployment', 'web').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it('mounts the mesh files as a directory (no subPath), so ConfigMap updates reach Envoy', () => {
    const { objects } = render(MESH);
    const envoy = find(objects, 'Deployment', 'web').spec.template.spec.initContainers[0];
    expect(envoy.volumeMounts.find((m: any) => m.name === 'mesh')).toEqual({ name: 'mesh', mountPath: '/etc/podvoy/xds', readOnly: true });
    expect(find(objects, 'ConfigMap', 'web-mesh').data['cds.yaml']).toContain('"address": "api.podvoy-k.svc.cluster.local."');
    expect(find(objects, 'Service', 'api').spec).toMatchObject({ clusterIP: 'None' });
  });

  it('keeps the mesh files out of the config hash, and bootstrap changes in it', () => {
    const hash = (text: string) => find(render(text).objects, 'Deployment', 'web').spec.template.metadata.annotations['podvoy.io/config-hash'];
    const split = MESH.replace('routes: [{service: web}]', 'routes: [{split: {web: 1, api: 1}}]');
    expect(hash(split)).toBe(hash(MESH));
    expect(hash(MESH.replace('upstreams: {api: 9001}', 'upstreams: {api: 9002}'))).not.toBe(hash(MESH));
  });

  it('mounts each identity\'s Secret as the directory its Envoy reads, and names the Secrets without rendering them', () => {
    const { objects, yaml, meshTlsSecrets } = render(MESH);
    expect(meshTlsSecrets).toEqual([
      { name: 'gateway-mesh-tls', workload: 'gateway' },
      { name: 'web-mesh-tls', workload: 'web' },
      { name: 'api-mesh-tls', workload: 'api' },
    ]);
    for (const workload of ['gateway', 'web', 'api']) {
      const pod = find(objects, 'Deployment', workload).spec.template.spec;
      const envoy = [...(pod.initContainers ?? []), ...pod.containers].find((c: any) => c.name === 'envoy');
      // A directory (no subPath): the kubelet's `..data` swap is a rename Envoy's watched directory sees.
      expect(envoy.volumeMounts.filter((m: any) => m.name === 'mesh-tls')).toEqual([{ name: 'mesh-tls', mountPath: '/etc/podvoy/mesh-tls', readOnly: true }]);
      expect(pod.volumes.find((v: any) => v.name === 'mesh-tls')).toEqual({ name: 'mesh-tls', secret: { secretName: `${workload}-mesh-tls`, defaultMode: 0o440 } });
      expect(pod.securityContext.fsGroup).toBe(101);
    }
    // Only the Envoy reads the identity: the app container mounts none of it.
    const web = find(objects, 'Deployment', 'web').spec.template.spec;
    expect(web.containers[0].volumeMounts.some((m: any) => m.name === 'mesh-tls')).toBe(false);
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(yaml).toContain('# Secrets the pods mount, made by podvoy kube apply (they hold keys, so they are never rendered): gateway-tls, gateway-mesh-tls, web-mesh-tls, api-mesh-tls.\n');
  });

  it('lets the kubelet ask the app\'s health through the probe listener, where the mesh port wants a certificate', () => {
    const { objects } = render(MESH);
    const envoy = parse(find(objects, 'ConfigMap', 'web-config').data['envoy.yaml']);
    const probe = envoy.static_resources.listeners.find((l: any) => l.name === 'probe');
    const filters = probe.filter_chains[0].filters[0].typed_config.http_filters;
    expect(filters.map((f: any) => f.name)).toEqual(['envoy.filters.http.health_check', 'envoy.filters.http.router']);
    expect(filters[0].typed_config).toMatchObject({
      pass_through_mode: false,
      headers: [{ name: ':path', string_match: { exact: '/.podvoy/health' } }],
      cluster_min_healthy_percentages: { app: { value: 100 } },
    });
    const app = find(objects, 'Deployment', 'api').spec.template.spec.containers[0];
    expect(app.readinessProbe.httpGet).toEqual({ path: '/.podvoy/health', port: 9902 });
  });

  it.each(['web', 'gateway'])('passes GET /ready and /certs (public details, for a CA rotation) of %s to the admin interface, and nothing else', (workload) => {
    const envoy = parse(find(render(MESH).objects, 'ConfigMap', `${workload}-config`).data['envoy.yaml']);
    const probe = envoy.static_resources.listeners.find((l: any) => l.name === 'probe');
    const routes = probe.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    expect(routes.map((r: any) => [r.match.path ?? r.match.prefix, r.route?.cluster ?? r.direct_response.status])).toEqual([
      ['/ready', 'admin'],
      ['/certs', 'admin'],
      ['/', 404],
    ]);
    const plain = parse(find(render(`${MESH}mtls: false\n`).objects, 'ConfigMap', `${workload}-config`).data['envoy.yaml']);
    const plainRoutes = plain.static_resources.listeners.find((l: any) => l.name === 'probe').filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    expect(plainRoutes.map((r: any) => r.match.path ?? r.match.prefix)).toEqual(['/ready', '/']);
  });

  it('keeps plain HTTP with mtls: false: no identity, no Secret, the app ready through its sidecar', () => {
    const { objects, meshTlsSecrets, yaml } = render(`${MESH}mtls: false\n`);
    expect(meshTlsSecrets).toEqual([]);
    expect(yaml).not.toContain('mesh-tls');
    expect(yaml).not.toContain('/.podvoy/health');
    const pod = find(objects, 'Deployment', 'web').spec.template.spec;
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: '/', port: 10000 });
    expect(pod.securityContext.fsGroup).toBeUndefined();
    expect(find(objects, 'Service', 'web').spec.ports[0].appProtocol).toBe('kubernetes.io/h2c');
  });

  it('sends a published sidecar\'s Service to its plain-HTTP listener with mTLS, as on podman', () => {
    const { objects } = render(MESH.replace('env: {MODE: prod}}', 'env: {MODE: prod}, sidecar: {publish: 30090}}'));
    expect(find(objects, 'Service', 'api-public').spec.ports).toEqual([{ name: 'http', port: 30090, targetPort: 'published', nodePort: 30090 }]);
    const envoy = find(objects, 'Deployment', 'api').spec.template.spec.initContainers[0];
    expect(envoy.ports).toEqual([
      { name: 'envoy', containerPort: 10000 },
      { name: 'published', containerPort: 10001 },
      { name: 'probe', containerPort: 9902 },
    ]);
  });

  it('names the PEM files of an identity\'s SDS files through the kubelet\'s ..data link, which is complete when Envoy sees it swapped', () => {
    const files = {
      'sds-certificate.yaml': renderSdsCertificate({ cert: 'ab.cert.pem', key: 'ab.key.pem' }).text,
      'sds-trust.yaml': renderSdsTrust('trust-1.pem').text,
      'ab.cert.pem': 'filename: /etc/podvoy/mesh-tls/not-an-sds-file',
    };
    const data = renderMeshTlsSecret({ name: 'k' }, { name: 'web-mesh-tls', workload: 'web' }, files).data as Record<string, string>;
    const text = (key: string) => Buffer.from(data[key]!, 'base64').toString();
    expect(text('sds-certificate.yaml')).toContain('"filename": "/etc/podvoy/mesh-tls/..data/ab.cert.pem"');
    expect(text('sds-certificate.yaml')).toContain('"filename": "/etc/podvoy/mesh-tls/..data/ab.key.pem"');
    expect(text('sds-certificate.yaml')).not.toMatch(/mesh-tls\/ab\./);
    expect(text('sds-trust.yaml')).toContain('"filename": "/etc/podvoy/mesh-tls/..data/trust-1.pem"');
    expect(text('ab.cert.pem')).toBe(files['ab.cert.pem']);
  });

  it('makes an identity\'s Secret with one key per file, for kube apply', () => {
    const secret = renderMeshTlsSecret({ name: 'k' }, { name: 'web-mesh-tls', workload: 'web' }, { 'sds-trust.yaml': 'trust', 'a.cert.pem': 'cert' });
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'web-mesh-tls',
        namespace: 'podvoy-k',
        labels: {
          'app.kubernetes.io/instance': 'k',
          'app.kubernetes.io/name': 'web',
          'app.kubernetes.io/component': 'service',
          'app.kubernetes.io/part-of': 'k',
          'app.kubernetes.io/managed-by': 'podvoy',
        },
      },
      type: 'Opaque',
      data: { 'a.cert.pem': 'Y2VydA==', 'sds-trust.yaml': 'dHJ1c3Q=' },
    });
  });

  it('gives a PodDisruptionBudget from 2 replicas only', () => {
    const { objects } = render(MESH);
    expect(find(objects, 'PodDisruptionBudget', 'web').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'k', 'app.kubernetes.io/name': 'web' } },
    });
    expect(find(objects, 'PodDisruptionBudget', 'api')).toBeUndefined();
  });

  it('runs an image app with its env, as a non-root user of its image', () => {
    const app = find(render(MESH).objects, 'Deployment', 'api').spec.template.spec.containers[0];
    expect([app.name, app.image, app.env, app.securityContext.runAsUser]).toEqual(['app', 'ghcr.io/x/api:1', [{ name: 'MODE', value: 'prod' }], undefined]);
  });

  it('exposes the gateway by NodePort on the spec ports when in range, TLS from a Secret, redirect to the node port', () => {
    const { objects } = render(MESH);
    expect(find(objects, 'Service', 'gateway').spec.ports).toEqual([
      { name: 'http', port: 30080, targetPort: 'http', nodePort: 30080 },
      { name: 'https', port: 30443, targetPort: 'https', nodePort: 30443 },
    ]);
    const pod = find(objects, 'Deployment', 'gateway').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'tls').secret).toEqual({
      secretName: 'gateway-tls',
      defaultMode: 0o440,
      items: [{ key: 'tls.crt', path: 'cert.pem' }, { key: 'tls.key', path: 'key.pem' }],
    });
    expect(pod.securityContext.fsGroup).toBe(101);
    expect(find(objects, 'ConfigMap', 'gateway-mesh').data['lds.yaml']).toContain('"port_redirect": 30443');
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('with a LoadBalancer, serves and redirects on the spec ports', () => {
    const { objects } = render(`${MESH.replace('30080', '8081').replace('30443', '8443')}kubernetes: {expose: LoadBalancer}\n`);
    expect(find(objects, 'Service', 'gateway').spec).toMatchObject({ type: 'LoadBalancer', ports: [{ port: 8081 }, { port: 8443 }] });
    expect(find(objects, 'ConfigMap', 'gateway-mesh').data['lds.yaml']).toContain('"port_redirect": 8443');
  });

  it('lets the cluster pick a node port out of the spec range, except where a redirect needs it', () => {
    const { objects } = render(`name: k\nservices:\n  web: {static: ./site, sidecar: {publish: 8080}}\n`);
    expect(find(objects, 'Service', 'web-public').spec).toEqual({
      type: 'NodePort',
      selector: { 'app.kubernetes.io/instance': 'k', 'app.kubernetes.io/name': 'web' },
      ports: [{ name: 'http', port: 8080, targetPort: 'envoy' }],
    });
  });

  it('refuses what a cluster cannot do the same way, with the Kubernetes way', () => {
    const error = errorOf(MESH.replace('http: 30080', 'http: "192.168.1.2:8080"').replace('https: 30443', 'https: 8443'));
    expect(error.message).toBe(
      '/srv/k/podvoy.yaml has 2 features a Kubernetes cluster cannot run the same way:\n' +
        '  gateway.http: binds to the host address 192.168.1.2, and a cluster has no such address to bind: a Service answers on every node ' +
        "(NodePort) or on its load balancer's address. Publish the port alone, and restrict who reaches it with kubernetes.expose: " +
        'LoadBalancer plus loadBalancerSourceRanges, or a NetworkPolicy.\n' +
        '  gateway.https: is port 8443, which cannot be a node port (30000-32767), and plain HTTP must redirect to the port clients reach ' +
        'HTTPS on. Set kubernetes.nodePorts.https (e.g. 30443), or kubernetes.expose: LoadBalancer to serve HTTPS on port 8443 of a load balancer.',
    );
    expect(error.problems.map((p) => p.path)).toEqual(['gateway.http', 'gateway.https']);
  });

  it('refuses gateway.tls.acme, which podvoy answers beside a podman gateway only', () => {
    const error = errorOf(MESH.replace('  routes: [{service: web}]', '  tls: {acme: {email: ops@example.com}}\n  routes: [{host: k.example.com, service: web}]'));
    expect(error.problems).toEqual([
      {
        path: 'gateway.tls.acme',
        message:
          'is answered by podvoy beside a podman gateway (HTTP-01 through its listener file); a cluster gets its certificates ' +
          'from cert-manager. Name the certificate with tls.cert and tls.key for the cluster, or play the spec with podman.',
      },
    ]);
  });

  it.each([
    [[10000, 8080], 9902],
    [[9902, 9903, 8080], 9904],
  ])('picks a probe port the pod does not use (%j)', (used, port) => {
    expect(probePort(used)).toBe(port);
  });
});
