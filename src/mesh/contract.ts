import { RESERVED_PORTS } from '../spec/model.js';

/**
 * The container contract: every path, port and name that podvoy's templates, podman arguments,
 * Kubernetes manifests, image builds and Envoy readers must agree on inside a pod. Nothing else
 * spells them, so none of them can drift between the places that use it.
 */

/** Repositories of the images `podvoy images build` makes from the host's binaries. */
export const LOCAL_IMAGES = { nginx: 'localhost/podvoy/nginx', envoy: 'localhost/podvoy/envoy' } as const;

/**
 * The tag suffix of a local nginx image that carries the brotli modules (Debian's
 * libnginx-mod-http-brotli-filter and -static, at the same paths as on the host): its sites are
 * compressed by nginx. Any other nginx image (the official one, a pinned one, a local build on a
 * host without the modules) leaves compression to the sidecar.
 */
export const NGINX_BROTLI_TAG_SUFFIX = '-brotli';

export function nginxHasBrotli(image: string): boolean {
  return image.startsWith(`${LOCAL_IMAGES.nginx}:`) && image.endsWith(NGINX_BROTLI_TAG_SUFFIX);
}

/** Paths inside a pod's containers. */
export const IN_POD = {
  /** The user nginx and Envoy run as (as in the official images). */
  uid: 101,
  nginxBinary: '/usr/sbin/nginx',
  envoyBinary: '/usr/local/bin/envoy',
  nginxConfig: '/etc/podvoy/nginx.conf',
  /** In images with brotli (nginxHasBrotli): the modules' files, where Debian installs them. */
  nginxBrotliModules: ['/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so', '/usr/lib/nginx/modules/ngx_http_brotli_static_module.so'],
  envoyConfig: '/etc/podvoy/envoy.yaml',
  /** A pod's mesh directory (xDS files), mounted read-only and watched by its Envoy. */
  xdsDir: '/etc/podvoy/xds',
  /** An Envoy's identity (mTLS): its SDS files, certificate, key and trust bundle, watched. */
  meshTlsDir: '/etc/podvoy/mesh-tls',
  /** The gateway's certificate and key for HTTPS. */
  tlsDir: '/etc/podvoy/tls',
  tlsCert: '/etc/podvoy/tls/cert.pem',
  tlsKey: '/etc/podvoy/tls/key.pem',
  /** Mounted from the pod's run directory; Envoy makes its admin socket here. */
  runDir: '/run/podvoy',
  adminSocket: '/run/podvoy/admin.sock',
  /** Where nginx serves the site from (a mount on podman, the image's own files on a cluster). */
  siteRoot: '/srv/site',
} as const;

/** The admin socket's file name, the same in the container's run directory and on the host. */
export const ADMIN_SOCKET_FILE = 'admin.sock';

/** Ports inside a pod that podvoy itself uses. */
export const POD_PORTS = {
  /** Envoy's admin interface, on 127.0.0.1 only. */
  envoyAdmin: RESERVED_PORTS.envoyAdmin,
  /** The gateway's listeners; the spec's host ports map onto them. */
  gatewayHttp: 8080,
  gatewayHttps: 8443,
} as const;

/**
 * The gateway's TLS directory with ACME (`IN_POD.tlsDir`, mounted whole): the SDS file naming the
 * pair Envoy serves, the self-signed pair served until the first certificate, and the SDS secret.
 */
export const GATEWAY_TLS = {
  sdsFile: 'sds-certificate.yaml',
  selfSigned: { cert: 'cert.pem', key: 'key.pem' },
  secret: 'gateway_certificate',
} as const;

/**
 * Every Envoy's Prometheus endpoint: a listener on the pod network that passes this path, and
 * no other, to the admin interface. Its port is the first from `firstPort` (Istio's choice for
 * Envoy's metrics) that nothing else in the pod uses.
 */
export const METRICS = { path: '/stats/prometheus', firstPort: 15090 } as const;

/** The metrics listener's port in a pod whose other listeners use `used`. */
export function metricsPort(used: readonly number[]): number {
  let port: number = METRICS.firstPort;
  while (used.includes(port)) port++;
  return port;
}

/** File names inside an Envoy's xDS directory. */
export const XDS_FILES = { clusters: 'cds.yaml', listeners: 'lds.yaml', routes: 'rds.yaml' } as const;

/**
 * Envoy worker threads. A sidecar shares its machine with its app, other pods and the gateway:
 * one worker served 24 % more requests per second than two on 2 cores, with less memory
 * (bench/results). The gateway, which carries every request, keeps two.
 */
export const ENVOY_CONCURRENCY = { sidecar: 1, gateway: 2 } as const;

/**
 * The fields of every JSON access log line (`accessLog: json`), the same at every hop: what the
 * templates write and `podvoy logs --request` reads.
 */
export const ACCESS_LOG_FIELDS = ['time', 'method', 'path', 'status', 'duration', 'upstream', 'request_id'] as const;

/** The stat prefixes of podvoy's listeners, and the stats podvoy reads through the admin API. */
export const ENVOY_STATS = {
  /** The sidecar's inbound listener, the way into a service. */
  inboundPrefix: 'inbound',
  /** The gateway's public listeners. */
  gatewayPrefixes: ['http', 'https'],
  /** Requests a sidecar is serving now: drained to 0 before its pod stops. */
  inboundActive: 'http.inbound.downstream_rq_active',
  /** Requests a sidecar's RBAC filter refused (a caller not in `allow`). */
  inboundDenied: 'http.inbound.rbac.denied',
} as const;

/** The Envoy cluster that reaches a service's sidecars, the same in the gateway and in every sidecar. */
export function clusterName(service: string): string {
  return `service_${service}`;
}

/** The service a cluster named by `clusterName` reaches; undefined for Envoy's other clusters. */
export function serviceOfCluster(cluster: string): string | undefined {
  return cluster.startsWith('service_') ? cluster.slice('service_'.length) : undefined;
}

/** A sidecar's loopback listener through which its app calls an upstream service. */
export function upstreamListenerName(service: string): string {
  return `upstream_${service}`;
}
