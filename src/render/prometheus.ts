import { stringify } from 'yaml';
import { METRICS } from '../mesh/contract.js';
import { gatewayMetricsPort, sidecarMetricsPort } from '../mesh/metrics.js';
import { GATEWAY, networkName } from '../mesh/names.js';
import type { Spec } from '../spec/model.js';

/** A pod of the deployment whose Envoy Prometheus scrapes. */
export interface ScrapedPod {
  readonly pod: string;
  /** A service's name, or `gateway`. */
  readonly service: string;
}

/** How often Prometheus reads each Envoy; rates over 30 s or more have at least 3 points. */
const SCRAPE_INTERVAL = '10s';

/**
 * A Prometheus configuration that scrapes a deployment: the gateway's metrics where the spec
 * publishes them on the host (`gateway.metrics`), and every Envoy by its pod's name on the
 * mesh network, for a Prometheus that runs on that network. Each series is labelled with its
 * deployment, service and pod. Pod names change when a pod is replaced: render again after a play.
 */
export function renderScrapeConfig(spec: Spec, pods: readonly ScrapedPod[]): string {
  const labels = (service: string, pod?: string) => ({ deployment: spec.name, service, ...(pod ? { pod } : {}) });
  const published = spec.gateway?.metrics;
  const gatewayPod = pods.find((p) => p.service === GATEWAY);
  const job = (name: string, targets: object[]) => ({ job_name: name, metrics_path: METRICS.path, scrape_interval: SCRAPE_INTERVAL, static_configs: targets });
  const portOf = (service: string) =>
    service === GATEWAY ? gatewayMetricsPort() : sidecarMetricsPort(spec.services.find((s) => s.name === service)!);
  const scrapeConfigs = [
    ...(published
      ? [
          job(`${spec.name}-gateway`, [
            {
              // A gateway published on every address is read on loopback.
              targets: [`${published.hostIP === '0.0.0.0' ? '127.0.0.1' : published.hostIP}:${published.hostPort}`],
              labels: labels(GATEWAY, gatewayPod?.pod),
            },
          ]),
        ]
      : []),
    job(
      `${spec.name}-mesh`,
      pods.map((p) => ({ targets: [`${p.pod}:${portOf(p.service)}`], labels: labels(p.service, p.pod) })),
    ),
  ];
  const header = [
    `# Prometheus scrape configuration of deployment ${JSON.stringify(spec.name)}, rendered by podvoy.`,
    ...(published ? [`# ${spec.name}-gateway: the gateway's metrics published on the host (gateway.metrics).`] : []),
    `# ${spec.name}-mesh: every Envoy by pod name, for a Prometheus on the podman network ${networkName(spec)}`,
    `# (podman run --network ${networkName(spec)} ...). Only ${METRICS.path} answers on these ports.`,
  ];
  return `${header.join('\n')}\n${stringify({ scrape_configs: scrapeConfigs }, { lineWidth: 0 })}`;
}
