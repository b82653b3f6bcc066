import type { Gateway, Route, Service, Spec } from '../spec/model.js';
import path from 'node:path';
import { IN_POD, POD_PORTS, XDS_FILES, clusterName } from '../mesh/contract.js';
import { xdsDir, type StateRoots } from '../mesh/layout.js';
import { MESH_HEALTH_PATH } from '../mesh/identity.js';
import { GATEWAY } from '../mesh/names.js';
import { servicesCalledBy, type MeshFile, type Registry } from '../mesh/registry.js';
import { envoyJsonLogFormat } from './access-log.js';
import { ACME_CHALLENGE_PREFIX, gatewayCertificateSds, type AcmeChallenge } from './gateway-tls.js';
import { SECURITY_HEADERS } from './edge-headers.js';
import { watchedFile } from './watched-file.js';
import { upstreamTransportSocket } from './mesh-tls.js';

/**
 * The mesh's xDS resources, rendered as the files Envoy's filesystem subscriptions watch.
 * Clusters and routes are generated in bulk, so they are built as objects and serialised
 * rather than templated. Each file carries a version that is a hash of its resources, which
 * the admin API then reports: equal versions mean Envoy runs exactly this file.
 */


const TYPES = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  stdoutLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  tls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
} as const;

/** A rendered xDS file and the version it carries. */
export interface XdsFile {
  readonly version: string;
  readonly text: string;
}


/**
 * A cluster reaching a service's sidecars over HTTP/2 by the pods' DNS names. Active health
 * checks and outlier detection keep failing pods out; with the panic threshold at 0 an
 * unhealthy pod gets no traffic even when it is the only one. With mTLS (`spec.mtls`), every
 * connection, health checks included, is TLS with the caller's certificate, and the health check
 * asks the sidecar itself, which answers from its app's health before any authorization.
 */
function serviceCluster(spec: Spec, service: Service, pods: readonly string[]): object {
  const name = clusterName(service.name);
  return {
    '@type': TYPES.cluster,
    name,
    type: 'STRICT_DNS',
    dns_lookup_family: 'V4_ONLY',
    connect_timeout: '1s',
    lb_policy: 'ROUND_ROBIN',
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': TYPES.httpOptions,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    health_checks: [
      {
        timeout: '1s',
        interval: '1s',
        // A pod still starting is checked again soon (before any traffic too), so registration
        // waits less for it; a healthy idle pod is checked once a second.
        no_traffic_interval: '0.25s',
        no_traffic_healthy_interval: '1s',
        unhealthy_interval: '0.25s',
        unhealthy_threshold: 2,
        healthy_threshold: 1,
        http_health_check: { path: spec.mtls ? MESH_HEALTH_PATH : service.health, codec_client_type: 'HTTP2' },
      },
    ],
    outlier_detection: { consecutive_5xx: 5, interval: '2s', base_ejection_time: '10s', max_ejection_percent: 100 },
    ...(spec.mtls ? { transport_socket: upstreamTransportSocket(spec.name, service.name) } : {}),
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: pods.map((pod) => ({
            endpoint: { hostname: pod, address: { socket_address: { address: pod, port_value: service.sidecar.port } } },
          })),
        },
      ],
    },
  };
}

/** The gateway's clusters: one per service, with the pods registered for it. */
export function renderGatewayClusters(spec: Spec, registry: Registry): XdsFile {
  return watchedFile(servicesCalledBy(spec, GATEWAY).map((s) => serviceCluster(spec, s, registry[s.name] ?? [])));
}

/** A sidecar's clusters: one per upstream it calls. */
export function renderSidecarClusters(spec: Spec, service: Service, registry: Registry): XdsFile {
  return watchedFile(servicesCalledBy(spec, service.name).map((s) => serviceCluster(spec, s, registry[s.name] ?? [])));
}

function routeAction(route: Route): object {
  const target =
    route.backends.length === 1
      ? { cluster: clusterName(route.backends[0]!.service) }
      : { weighted_clusters: { clusters: route.backends.map((b) => ({ name: clusterName(b.service), weight: b.weight })) } };
  return {
    ...target,
    // Durations in xDS JSON are seconds: 250 ms is "0.25s".
    timeout: `${route.timeoutMs / 1000}s`,
    retry_policy: {
      retry_on: 'connect-failure,refused-stream,reset,gateway-error',
      num_retries: route.retries,
      retry_back_off: { base_interval: '0.025s', max_interval: '0.25s' },
      // A retry goes to another pod when there is one: the failed one may be going down.
      retry_host_predicate: [
        { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': TYPES.previousHosts } },
      ],
      host_selection_retry_max_attempts: 3,
    },
  };
}

/**
 * The gateway's routes. Envoy picks a virtual host by host name first, so each named host gets
 * its own routes and the `*` routes, in spec order: the first route of the spec that matches a
 * request takes it, as the spec promises.
 */
export function renderGatewayRoutes(gateway: Gateway): XdsFile {
  const hosts = [...new Set(gateway.routes.map((r) => r.host))].sort((a, b) => Number(a === '*') - Number(b === '*'));
  const virtualHosts = hosts.map((host) => ({
    name: host === '*' ? 'any' : host,
    domains: [host],
    routes: gateway.routes
      .filter((r) => r.host === host || r.host === '*')
      .map((r) => ({ match: { prefix: r.prefix }, route: routeAction(r) })),
  }));
  const hsts = gateway.https && gateway.hsts;
  // The edge adds the security headers to every answer, its own included, unless the service
  // behind it already set them (its sidecar does, with the service's CSP).
  const security = SECURITY_HEADERS.map((h) => ({ header: h, append_action: 'ADD_IF_ABSENT' }));
  return watchedFile([
    {
      '@type': TYPES.routes,
      name: 'gateway',
      virtual_hosts: virtualHosts,
      response_headers_to_add: [
        ...(hsts
          ? [{ header: { key: 'strict-transport-security', value: 'max-age=31536000' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]
          : []),
        ...security,
      ],
    },
  ]);
}

/** What an edge proxy owes its upstreams: requests cut to a known shape, and bounded resources. */
const EDGE_LIMITS = {
  requestHeadersKb: 32,
  maxHeaders: 100,
  requestHeadersTimeout: '10s',
  streamIdleTimeout: '60s',
  idleTimeout: '300s',
  // Per connection, and so per stream: an answer larger than this makes the gateway pause and
  // resume its upstream while the client reads. At Envoy's edge guide's 32 KiB, a 100 KiB
  // answer cost the gateway about 20 µs more CPU than with no limit (bench, 100 KiB file); at
  // 256 KiB the cost was gone. Memory stays bounded: 10,000 connections at most, and the
  // overload manager stops taking requests near its heap limit.
  bufferBytes: 262_144,
  maxConcurrentStreams: 100,
} as const;

/** The gateway's access log names the client as Envoy saw it, not as a header claims. */
const GATEWAY_ACCESS_LOG_FORMAT =
  '[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_SENT% %DURATION%ms xff="%REQ(X-FORWARDED-FOR)%" upstream=%UPSTREAM_HOST%\n';

function httpConnectionManager(statPrefix: string, routing: object, jsonAccessLog: boolean): object {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': TYPES.hcm,
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      access_log: [
        {
          name: 'envoy.access_loggers.stdout',
          typed_config: {
            '@type': TYPES.stdoutLog,
            log_format: jsonAccessLog ? envoyJsonLogFormat() : { text_format_source: { inline_string: GATEWAY_ACCESS_LOG_FORMAT } },
          },
        },
      ],
      // The edge makes every request's x-request-id (replacing a client's), the sidecars keep
      // it; with JSON logs the client gets it back, to look the request up with podvoy logs.
      ...(jsonAccessLog ? { always_set_request_id_in_response: true } : {}),
      // The client's own address, not X-Forwarded-For from the request: the gateway is the edge.
      use_remote_address: true,
      xff_num_trusted_hops: 0,
      // Routes and upstreams see one spelling of each path: /a/../b and //b are /b, and an
      // escaped slash (%2F), which upstreams may decode into a separator, is refused.
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'REJECT_REQUEST',
      // Browsers send the port in Host on non-default ports; routes match the name alone.
      strip_any_host_port: true,
      max_request_headers_kb: EDGE_LIMITS.requestHeadersKb,
      request_headers_timeout: EDGE_LIMITS.requestHeadersTimeout,
      stream_idle_timeout: EDGE_LIMITS.streamIdleTimeout,
      common_http_protocol_options: {
        idle_timeout: EDGE_LIMITS.idleTimeout,
        max_headers_count: EDGE_LIMITS.maxHeaders,
        // A header such as x_user can smuggle past a filter that matches x-user.
        headers_with_underscores_action: 'REJECT_REQUEST',
      },
      http2_protocol_options: { max_concurrent_streams: EDGE_LIMITS.maxConcurrentStreams },
      ...routing,
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': TYPES.router } }],
    },
  };
}

const RDS = {
  rds: {
    route_config_name: 'gateway',
    config_source: {
      resource_api_version: 'V3',
      path_config_source: { path: `${IN_POD.xdsDir}/${XDS_FILES.routes}`, watched_directory: { path: IN_POD.xdsDir } },
    },
  },
};

/**
 * The gateway's listeners. With HTTPS, plain HTTP only redirects to it, and HTTPS offers
 * HTTP/2 and HTTP/1.1 by ALPN; the key stays in its file, which is only referenced here.
 * With ACME, the certificate comes through SDS from the watched TLS directory, and plain HTTP
 * answers the pending HTTP-01 challenges before anything else (RFC 8555 section 8.3).
 */
export function renderGatewayListeners(
  gateway: Gateway,
  options: { readonly jsonAccessLog?: boolean; readonly challenges?: readonly AcmeChallenge[] } = {},
): XdsFile {
  const json = Boolean(options.jsonAccessLog);
  const challenges = options.challenges ?? [];
  const listener = (name: string, port: number, filterChain: object) => ({
    '@type': TYPES.listener,
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    per_connection_buffer_limit_bytes: EDGE_LIMITS.bufferBytes,
    filter_chains: [filterChain],
  });
  if (!gateway.https) {
    return watchedFile([listener('http', POD_PORTS.gatewayHttp, { filters: [httpConnectionManager('http', RDS, json)] })]);
  }
  const redirect = {
    route_config: {
      name: 'redirect',
      virtual_hosts: [
        {
          name: 'redirect',
          domains: ['*'],
          routes: [
            ...(gateway.acme ? acmeChallengeRoutes(challenges) : []),
            { match: { prefix: '/' }, redirect: { https_redirect: true, port_redirect: gateway.https.hostPort } },
          ],
        },
      ],
    },
  };
  return watchedFile([
    listener('http', POD_PORTS.gatewayHttp, { filters: [httpConnectionManager('http', redirect, json)] }),
    listener('https', POD_PORTS.gatewayHttps, {
      filters: [httpConnectionManager('https', RDS, json)],
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': TYPES.tls,
          common_tls_context: {
            alpn_protocols: ['h2', 'http/1.1'],
            ...(gateway.acme
              ? { tls_certificate_sds_secret_configs: [gatewayCertificateSds()] }
              : { tls_certificates: [{ certificate_chain: { filename: IN_POD.tlsCert }, private_key: { filename: IN_POD.tlsKey } }] }),
          },
        },
      },
    }),
  ]);
}

/** Each pending token answered with its key authorization; any other token is not found. */
function acmeChallengeRoutes(challenges: readonly AcmeChallenge[]): object[] {
  return [
    ...challenges.map((c) => ({
      match: { path: `${ACME_CHALLENGE_PREFIX}${c.token}` },
      direct_response: { status: 200, body: { inline_string: c.keyAuthorization } },
    })),
    { match: { prefix: ACME_CHALLENGE_PREFIX }, direct_response: { status: 404 } },
  ];
}

/** The gateway's listener file with these HTTP-01 challenges answered on plain HTTP. */
export function renderGatewayListenersFile(spec: Spec, roots: StateRoots, challenges: readonly AcmeChallenge[]): MeshFile {
  return {
    envoy: GATEWAY,
    kind: 'listeners',
    path: path.join(xdsDir(roots, spec.name, GATEWAY), XDS_FILES.listeners),
    ...renderGatewayListeners(spec.gateway!, { challenges, jsonAccessLog: spec.accessLog === 'json' }),
  };
}

/** Every xDS file of a spec's mesh directory for one registry: the gateway's, and each calling sidecar's. */
export function renderMeshFiles(spec: Spec, registry: Registry, roots: StateRoots): MeshFile[] {
  const files: MeshFile[] = [];
  const add = (envoy: string, kind: MeshFile['kind'], file: XdsFile) =>
    files.push({ envoy, kind, path: path.join(xdsDir(roots, spec.name, envoy), XDS_FILES[kind]), ...file });
  if (spec.gateway) {
    add(GATEWAY, 'clusters', renderGatewayClusters(spec, registry));
    add(GATEWAY, 'listeners', renderGatewayListeners(spec.gateway, { jsonAccessLog: spec.accessLog === 'json' }));
    add(GATEWAY, 'routes', renderGatewayRoutes(spec.gateway));
  }
  for (const service of spec.services) {
    if (service.upstreams.length) add(service.name, 'clusters', renderSidecarClusters(spec, service, registry));
  }
  return files;
}
