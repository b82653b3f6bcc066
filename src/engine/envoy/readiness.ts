import { readFile } from 'node:fs/promises';
import { PodNotReadyError } from '../../errors.js';
import { MESH_HEALTH_PATH, type PodMeshTls } from '../../mesh/identity.js';
import type { GatewayPlan, PodPlan } from '../../mesh/plan.js';
import { CONTAINERS, containerName, serviceContainers } from '../../mesh/names.js';
import { adminGet, httpGet } from './http.js';
import { inspectContainers, tailPodLogs, type ContainerState, type DeployedPod } from '../podman/pods.js';

export interface ReadinessOptions {
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Between two polls. @default 50 */
  readonly intervalMs?: number;
}

/** What to watch to know that a pod serves. */
export interface ReadinessTarget {
  readonly pod: string;
  /** Full container names, infra excluded. */
  readonly containers: readonly string[];
  readonly adminSocket: string;
  /** The published URL; without one, the pod's address on `network` is probed. */
  readonly url?: string;
  readonly network: string;
  readonly sidecarPort: number;
  /** The path requested through the sidecar. @default "/" */
  readonly path?: string;
  /** Which answers through the sidecar count as serving. */
  readonly serves: (status: number) => boolean;
  /** With mTLS (and no published URL): probe the sidecar over HTTPS with podvoy's own certificate. */
  readonly meshTls?: PodMeshTls;
}

/** A static site must answer 200 on its health path; any app at all, anything but a 5xx. */
export function targetOfPlan(plan: PodPlan, network: string): ReadinessTarget {
  return {
    pod: plan.pod,
    containers: serviceContainers(plan.service).map((c) => containerName(plan.pod, c)),
    adminSocket: plan.paths.adminSocket,
    ...(plan.url ? { url: plan.url } : {}),
    network,
    sidecarPort: plan.service.sidecar.port,
    path: plan.service.health,
    serves: plan.service.app.kind === 'static' ? (status) => status === 200 : (status) => status < 500,
    // A sidecar with mTLS answers podvoy's certificate only on its health path, from its app's health.
    ...(plan.meshTls && !plan.url ? { meshTls: plan.meshTls, path: MESH_HEALTH_PATH, serves: (status: number) => status === 200 } : {}),
  };
}

/**
 * Returns once the pod serves: Envoy's admin reports ready (`/ready`, through the admin socket)
 * and a request through the sidecar gets the app's answer. A container that exits or restarts
 * fails at once.
 */
export async function waitUntilReady(target: ReadinessTarget, options: ReadinessOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const started = Date.now();
  let reason = 'Envoy never reported ready';
  // A pod brought back after a crash counts its earlier restarts: only new ones are failures.
  let states = await inspectContainers(target.containers).catch(() => []);
  let inspectedAt = Date.now();
  const restartsBefore = new Map(states.map((s) => [s.name, s.restarts]));
  while (Date.now() - started < timeoutMs) {
    // podman is asked again only now and then (a call costs tens of ms of CPU, and many pods
    // may be waited for at once), or while the pod has no address to probe yet.
    if (Date.now() - inspectedAt >= INSPECT_EVERY_MS || !hasAddress(target, states)) {
      states = await inspectContainers(target.containers);
      inspectedAt = Date.now();
    }
    const failed = states.find((s) => hasFailed(s, restartsBefore.get(s.name) ?? 0));
    if (failed) {
      reason = `container ${failed.name} ${failed.status === 'exited' ? `exited with code ${failed.exitCode}` : `restarted ${failed.restarts} time(s)`}`;
      break;
    }
    const outcome = await probe(target, states);
    if (outcome === true) return;
    reason = outcome;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new PodNotReadyError(target.pod, Date.now() - started, reason, await tailPodLogs(target.pod, 20));
}

/** How often a waited-for pod's containers are inspected for an exit or a restart. */
const INSPECT_EVERY_MS = 1_000;

function hasAddress(target: ReadinessTarget, states: readonly ContainerState[]): boolean {
  return target.url !== undefined || states.some((s) => s.addresses[target.network]);
}

function hasFailed(state: ContainerState, restartsBefore: number): boolean {
  return state.status === 'exited' || state.status === 'stopped' || state.restarts > restartsBefore;
}

/** One readiness check: true, or why not yet. */
async function probe(target: ReadinessTarget, states: readonly ContainerState[]): Promise<true | string> {
  try {
    const ready = await adminGet(target.adminSocket, '/ready');
    if (ready.status !== 200) return `Envoy's /ready answered ${ready.status}`;
  } catch (error) {
    return `Envoy's admin socket does not answer (${(error as Error).message})`;
  }
  const address = states.map((s) => s.addresses[target.network]).find(Boolean);
  const scheme = target.meshTls ? 'https' : 'http';
  const base = target.url ?? (address ? `${scheme}://${address}:${target.sidecarPort}/` : undefined);
  const url = base && new URL(target.path ?? '/', base).href;
  if (!url) return 'the pod has no address on its network yet';
  try {
    const res = await httpGet(url, target.meshTls ? { tls: await clientTls(target.meshTls) } : {});
    return target.serves(res.status) ? true : `GET ${url} through the sidecar answered ${res.status}`;
  } catch (error) {
    return `GET ${url} through the sidecar failed (${(error as Error).message})`;
  }
}

/** A pod that podvoy played earlier (known from podman's labels), to see it serve again. */
export function targetOfDeployed(pod: DeployedPod, adminSocket: string, network: string): ReadinessTarget {
  return {
    pod: pod.name,
    containers: pod.containers.map((c) => c.name),
    adminSocket,
    ...(pod.url ? { url: pod.url } : {}),
    network,
    sidecarPort: 0,
    serves: (status) => status < 500,
  };
}

/** The gateway serves once Envoy answers on its HTTP port; its routes are checked through the mesh files. */
export function targetOfGateway(plan: GatewayPlan, network: string): ReadinessTarget {
  const http = plan.spec.gateway!.http;
  return {
    pod: plan.pod,
    containers: [containerName(plan.pod, CONTAINERS.envoy)],
    adminSocket: plan.paths.adminSocket,
    url: `http://${http.hostIP === '0.0.0.0' ? '127.0.0.1' : http.hostIP}:${http.hostPort}/`,
    network,
    sidecarPort: 0,
    serves: () => true,
  };
}

async function clientTls(meshTls: PodMeshTls): Promise<{ cert: string; key: string; ca: string; serverUri: string }> {
  const [cert, key, ca] = await Promise.all([meshTls.client.cert, meshTls.client.key, meshTls.client.ca].map((f) => readFile(f, 'utf8')));
  return { cert: cert!, key: key!, ca: ca!, serverUri: meshTls.serverId };
}
