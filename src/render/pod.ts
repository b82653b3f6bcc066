import { ENVOY_CONCURRENCY, ENVOY_STATS, IN_POD, METRICS, POD_PORTS, XDS_FILES, clusterName, nginxHasBrotli, upstreamListenerName } from '../mesh/contract.js';
import { MESH_HEALTH_PATH, SDS_FILES, SDS_SECRETS, allowedPrincipals, publishedPort, trustDomainPrefix } from '../mesh/identity.js';
import type { GatewayPlan, PodPlan, RenderedPod } from '../mesh/plan.js';
import { gatewayMetricsPort, sidecarMetricsPort } from '../mesh/metrics.js';
import { ENVOY_JSON_LOG_FORMAT, NGINX_JSON_LOG } from './access-log.js';
import { COMPRESSION, NGINX_COMPRESSION } from './compression.js';
import { headersBy } from './edge-headers.js';
import { nginxSite } from './site.js';
import type { Templates } from './templates.js';

/** The gateway's heap budget: it sheds load past 95 % of it, well before the machine runs short. */
const GATEWAY_MAX_HEAP_BYTES = 512 * 1024 * 1024;

/** What every template reads of the container contract (src/mesh/contract.ts), as `container.*`. */
const CONTAINER = {
  ...IN_POD,
  adminPort: POD_PORTS.envoyAdmin,
  xds: {
    dir: IN_POD.xdsDir,
    clusters: `${IN_POD.xdsDir}/${XDS_FILES.clusters}`,
    listeners: `${IN_POD.xdsDir}/${XDS_FILES.listeners}`,
  },
  meshTls: {
    sds: { certificate: `${IN_POD.meshTlsDir}/${SDS_FILES.certificate}`, trust: `${IN_POD.meshTlsDir}/${SDS_FILES.trust}` },
    secrets: SDS_SECRETS,
    healthPath: MESH_HEALTH_PATH,
  },
  stats: { inbound: ENVOY_STATS.inboundPrefix },
} as const;

/** What differs in the Envoy bootstrap between targets. */
export interface EnvoyTargetOptions {
  /**
   * A listener on the pod network for the kubelet's probes: Envoy's /ready alone, and with mTLS
   * the app's health as the sidecar sees it (MESH_HEALTH_PATH) and Envoy's /certs (public
   * details only), by which `kube apply` follows a CA rotation.
   */
  readonly probePort?: number;
}

export function renderPod(templates: Templates, plan: PodPlan, target: EnvoyTargetOptions = {}): RenderedPod {
  const { service, paths } = plan;
  const app = service.app;
  const podYaml = templates['pod.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    labels: plan.labels,
    images: plan.images,
    static: app.kind === 'static' ? { root: app.root } : false,
    env: app.kind === 'image' ? Object.entries(app.env).map(([name, value]) => ({ name, value })) : [],
    sidecarPort: service.sidecar.port,
    publish: service.sidecar.publish
      ? { ...service.sidecar.publish, containerPort: plan.meshTls ? publishedPort(service) : service.sidecar.port }
      : false,
    envoyConcurrency: ENVOY_CONCURRENCY.sidecar,
    paths,
    xds: plan.xdsDir ? { hostDir: plan.xdsDir } : false,
    meshTls: plan.meshTls ? { hostDir: plan.meshTls.dir } : false,
    container: CONTAINER,
  });
  const headers = headersBy(service);
  const nginxCompresses = app.kind === 'static' && nginxHasBrotli(plan.images.nginx);
  const envoyYaml = templates['sidecar-envoy.yaml']({
    pod: plan.pod,
    service: service.name,
    sidecarPort: service.sidecar.port,
    appPort: app.port,
    health: service.health,
    upstreams: service.upstreams.map((u) => ({
      service: u.service,
      port: u.port,
      listener: upstreamListenerName(u.service),
      cluster: clusterName(u.service),
    })),
    container: CONTAINER,
    probe: target.probePort === undefined ? false : { port: target.probePort, health: plan.meshTls ? MESH_HEALTH_PATH : false, certs: plan.meshTls !== undefined },
    metrics: { port: sidecarMetricsPort(service), path: METRICS.path },
    accessLog: plan.spec.accessLog === 'json' ? { fields: ENVOY_JSON_LOG_FORMAT } : false,
    responseHeaders: headers.sidecar,
    compression: COMPRESSION,
    compressors: nginxCompresses ? [] : COMPRESSION.compressors,
    nginxCompresses,
    mtls: plan.meshTls
      ? {
          trustDomainPrefix: trustDomainPrefix(plan.spec.name),
          principals: allowedPrincipals(plan.spec, service),
          publishedPort: service.sidecar.publish ? publishedPort(service) : false,
        }
      : false,
  });
  if (app.kind !== 'static') return { podYaml, envoyYaml };
  const ports = new Map(service.upstreams.map((u) => [u.service, u.port]));
  const nginxConf = templates['nginx.conf']({
    pod: plan.pod,
    port: app.port,
    proxy: app.proxy.map((p) => ({ prefix: p.prefix, upstream: p.upstream, port: ports.get(p.upstream) })),
    site: nginxSite(app.site),
    accessLog: plan.spec.accessLog === 'json' ? NGINX_JSON_LOG : false,
    headers: headers.nginx,
    compression: nginxCompresses ? NGINX_COMPRESSION : false,
    container: CONTAINER,
  });
  return { podYaml, envoyYaml, nginxConf };
}

/** The gateway's pod and its bootstrap; its listeners, routes and clusters are xDS files. */
export function renderGateway(templates: Templates, plan: GatewayPlan, target: EnvoyTargetOptions = {}): RenderedPod {
  const gateway = plan.spec.gateway!;
  const ports = [
    { containerPort: POD_PORTS.gatewayHttp, ...gateway.http },
    ...(gateway.https ? [{ containerPort: POD_PORTS.gatewayHttps, ...gateway.https }] : []),
    ...(gateway.metrics ? [{ containerPort: gatewayMetricsPort(), ...gateway.metrics }] : []),
  ];
  const podYaml = templates['gateway-pod.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    labels: plan.labels,
    image: plan.image,
    envoyConcurrency: ENVOY_CONCURRENCY.gateway,
    ports,
    paths: plan.paths,
    xdsDir: plan.xdsDir,
    meshTls: plan.meshTlsDir ? { hostDir: plan.meshTlsDir } : false,
    tls: plan.tls ? { cert: plan.tls.cert, key: plan.tls.key, dir: plan.tls.acme?.dir ?? false } : false,
    container: CONTAINER,
  });
  const envoyYaml = templates['gateway-envoy.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    container: CONTAINER,
    maxConnections: gateway.maxConnections,
    maxHeapBytes: GATEWAY_MAX_HEAP_BYTES,
    probe: target.probePort === undefined ? false : { port: target.probePort, certs: plan.spec.mtls !== undefined },
    metrics: { port: gatewayMetricsPort(), path: METRICS.path },
  });
  return { podYaml, envoyYaml };
}
