import type { Service } from '../spec/model.js';
import { POD_PORTS, metricsPort } from './contract.js';
import { publishedPort } from './identity.js';

/** The port of a sidecar's metrics listener: clear of the app, the sidecar's listeners and Envoy's admin. */
export function sidecarMetricsPort(service: Pick<Service, 'app' | 'sidecar' | 'upstreams'>): number {
  return metricsPort([
    POD_PORTS.envoyAdmin,
    service.app.port,
    service.sidecar.port,
    publishedPort(service),
    ...service.upstreams.map((u) => u.port),
  ]);
}

/** The port of the gateway's metrics listener (the spec's `gateway.metrics` publishes it). */
export function gatewayMetricsPort(): number {
  return metricsPort([POD_PORTS.envoyAdmin, POD_PORTS.gatewayHttp, POD_PORTS.gatewayHttps]);
}
