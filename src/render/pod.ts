import { RESERVED_PORTS } from '../spec/model.js';
import { ADMIN_SOCKET, CONTAINER_RUN_DIR, CONTAINER_TLS, CONTAINER_UID, CONTAINER_XDS_DIR } from '../mesh/layout.js';
import {
  CONTAINER_MESH_TLS_DIR,
  MESH_HEALTH_PATH,
  SDS_FILES,
  SDS_SECRETS,
  allowedPrincipals,
  publishedPort,
  trustDomainPrefix,
} from '../mesh/identity.js';
import { clusterName } from '../mesh/names.js';
import type { GatewayPlan, PodPlan, RenderedPod } from '../mesh/plan.js';
import { COMPRESSION } from './compression.js';
import { serviceHeaders } from './edge-headers.js';
import { nginxSite } from './site.js';
import type { Templates } from './templates.js';
import { GATEWAY_PORTS, XDS_FILES } from './xds.js';


/**
 * Envoy worker threads. A sidecar shares its machine with its app, other pods and the gateway:
 * one worker served 24 % more requests per second than two on 2 cores, with less memory
 * (bench/results). The gateway, which carries every request, keeps two.
 */
export const SIDECAR_CONCURRENCY = 1;
export const GATEWAY_CONCURRENCY = 2;

/** The gateway's heap budget: it sheds load past 95 % of it, well before the machine runs short. */
const GATEWAY_MAX_HEAP_BYTES = 512 * 1024 * 1024;

const ADMIN_SOCKET_IN_CONTAINER = `${CONTAINER_RUN_DIR}/${ADMIN_SOCKET}`;

const XDS_IN_CONTAINER = {
  dir: CONTAINER_XDS_DIR,
  clusters: `${CONTAINER_XDS_DIR}/${XDS_FILES.clusters}`,
  listeners: `${CONTAINER_XDS_DIR}/${XDS_FILES.listeners}`,
};

const MESH_TLS_IN_CONTAINER = {
  dir: CONTAINER_MESH_TLS_DIR,
  sds: { certificate: `${CONTAINER_MESH_TLS_DIR}/${SDS_FILES.certificate}`, trust: `${CONTAINER_MESH_TLS_DIR}/${SDS_FILES.trust}` },
  secrets: SDS_SECRETS,
  healthPath: MESH_HEALTH_PATH,
};

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
    envoyConcurrency: SIDECAR_CONCURRENCY,
    paths,
    xds: plan.xdsDir ? { hostDir: plan.xdsDir, containerDir: CONTAINER_XDS_DIR } : false,
    meshTls: plan.meshTls ? { hostDir: plan.meshTls.dir, containerDir: CONTAINER_MESH_TLS_DIR } : false,
    uid: CONTAINER_UID,
  });
  const envoyYaml = templates['sidecar-envoy.yaml']({
    pod: plan.pod,
    service: service.name,
    adminPort: RESERVED_PORTS.envoyAdmin,
    sidecarPort: service.sidecar.port,
    appPort: app.port,
    health: service.health,
    adminSocket: ADMIN_SOCKET_IN_CONTAINER,
    upstreams: service.upstreams.map((u) => ({
      service: u.service,
      port: u.port,
      listener: `upstream_${u.service}`,
      cluster: clusterName(u.service),
    })),
    xds: XDS_IN_CONTAINER,
    probe: target.probePort === undefined ? false : { port: target.probePort, health: plan.meshTls ? MESH_HEALTH_PATH : false, certs: plan.meshTls !== undefined },
    responseHeaders: serviceHeaders(service),
    compression: COMPRESSION,
    compressors: COMPRESSION.compressors,
    mtls: plan.meshTls
      ? {
          ...MESH_TLS_IN_CONTAINER,
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
  });
  return { podYaml, envoyYaml, nginxConf };
}

/** The gateway's pod and its bootstrap; its listeners, routes and clusters are xDS files. */
export function renderGateway(templates: Templates, plan: GatewayPlan, target: EnvoyTargetOptions = {}): RenderedPod {
  const gateway = plan.spec.gateway!;
  const ports = [
    { containerPort: GATEWAY_PORTS.http, ...gateway.http },
    ...(gateway.https ? [{ containerPort: GATEWAY_PORTS.https, ...gateway.https }] : []),
  ];
  const podYaml = templates['gateway-pod.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    labels: plan.labels,
    image: plan.image,
    envoyConcurrency: GATEWAY_CONCURRENCY,
    ports,
    paths: plan.paths,
    xdsDir: plan.xdsDir,
    containerXdsDir: CONTAINER_XDS_DIR,
    meshTls: plan.meshTlsDir ? { hostDir: plan.meshTlsDir, containerDir: CONTAINER_MESH_TLS_DIR } : false,
    tls: plan.tls ? { cert: plan.tls.cert, key: plan.tls.key, containerCert: CONTAINER_TLS.cert, containerKey: CONTAINER_TLS.key } : false,
    uid: CONTAINER_UID,
  });
  const envoyYaml = templates['gateway-envoy.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    adminPort: RESERVED_PORTS.envoyAdmin,
    adminSocket: ADMIN_SOCKET_IN_CONTAINER,
    xds: XDS_IN_CONTAINER,
    maxConnections: gateway.maxConnections,
    maxHeapBytes: GATEWAY_MAX_HEAP_BYTES,
    probe: target.probePort === undefined ? false : { port: target.probePort, certs: plan.spec.mtls !== undefined },
  });
  return { podYaml, envoyYaml };
}
