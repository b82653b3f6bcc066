import { ENVOY_STATS } from '../../mesh/contract.js';
import { podPaths, type StateRoots } from '../../mesh/layout.js';
import { GATEWAY } from '../../mesh/names.js';
import { clusterStatuses, isReady, statValue, xdsVersions, type ClusterStatus, type XdsVersions } from './admin.js';
import { listPods } from '../podman/pods.js';

/** One Envoy of a deployment, as its admin API reports it. */
export interface EnvoyStatus {
  readonly service: string;
  readonly pod: string;
  readonly podStatus: string;
  readonly url?: string;
  readonly ready: boolean;
  /** Requests the Envoy received on its inbound (sidecar) or public (gateway) listeners, and how many got a 5xx. */
  readonly requests: number;
  readonly errors: number;
  /** Requests a sidecar refused (403) because the caller's identity is not in the service's allow (mTLS). */
  readonly denied: number;
  readonly versions: XdsVersions;
  /** The clusters it routes to and their hosts: the gateway's view of the mesh. */
  readonly clusters: readonly ClusterStatus[];
}

export interface DeploymentStatus {
  readonly spec: string;
  readonly envoys: readonly EnvoyStatus[];
}

/** Internal clusters every Envoy has; not part of the mesh. */
const INTERNAL_CLUSTERS = new Set(['admin', 'app']);

/** Reads every Envoy of a deployment through its admin socket. A pod that does not answer is reported as not ready. */
export async function readStatus(specName: string, roots: StateRoots): Promise<DeploymentStatus> {
  const pods = await listPods(specName);
  const envoys = await Promise.all(
    pods.map(async (pod): Promise<EnvoyStatus> => {
      const socket = podPaths(roots, specName, pod.name).adminSocket;
      const prefixes = pod.service === GATEWAY ? ENVOY_STATS.gatewayPrefixes : [ENVOY_STATS.inboundPrefix];
      const sum = async (stat: string) =>
        (await Promise.all(prefixes.map((p) => statValue(socket, `http.${p}.${stat}`).catch(() => 0)))).reduce((a, b) => a + b, 0);
      const ready = pod.status === 'Running' && (await isReady(socket));
      return {
        service: pod.service,
        pod: pod.name,
        podStatus: pod.status,
        ...(pod.url ? { url: pod.url } : {}),
        ready,
        requests: ready ? await sum('downstream_rq_total') : 0,
        errors: ready ? await sum('downstream_rq_5xx') : 0,
        denied: ready && pod.service !== GATEWAY ? await statValue(socket, ENVOY_STATS.inboundDenied).catch(() => 0) : 0,
        versions: ready ? await xdsVersions(socket).catch(() => ({})) : {},
        clusters: ready ? (await clusterStatuses(socket).catch(() => [])).filter((c) => !INTERNAL_CLUSTERS.has(c.name)) : [],
      };
    }),
  );
  return { spec: specName, envoys };
}
