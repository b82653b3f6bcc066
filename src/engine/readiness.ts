import { PodNotReadyError } from '../errors.js';
import type { PodPlan } from '../mesh/plan.js';
import { containerName, networkName, serviceContainers } from '../mesh/names.js';
import { adminGet, httpGet } from './http.js';
import { inspectContainers, tailPodLogs, type ContainerState } from './pods.js';

export interface ReadinessOptions {
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Between two polls. @default 100 */
  readonly intervalMs?: number;
}

/**
 * Returns once the pod serves: Envoy's admin reports ready (`/ready`, through the admin socket)
 * and a request through the sidecar gets the app's answer (200 for a static site, anything but
 * a 5xx for an image). A container that exits or restarts fails at once.
 */
export async function waitUntilReady(plan: PodPlan, options: ReadinessOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const started = Date.now();
  const containers = serviceContainers(plan.service).map((c) => containerName(plan.pod, c));
  let reason = 'Envoy never reported ready';
  while (Date.now() - started < timeoutMs) {
    const states = await inspectContainers(containers);
    const failed = states.find(hasFailed);
    if (failed) {
      reason = `container ${failed.name} ${failed.status === 'exited' ? `exited with code ${failed.exitCode}` : `restarted ${failed.restarts} time(s)`}`;
      break;
    }
    const outcome = await probe(plan, states);
    if (outcome === true) return;
    reason = outcome;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new PodNotReadyError(plan.pod, Date.now() - started, reason, await tailPodLogs(plan.pod, 20));
}

function hasFailed(state: ContainerState): boolean {
  return state.status === 'exited' || state.status === 'stopped' || state.restarts > 0;
}

/** One readiness check: true, or why not yet. */
async function probe(plan: PodPlan, states: readonly ContainerState[]): Promise<true | string> {
  try {
    const ready = await adminGet(plan.paths.adminSocket, '/ready');
    if (ready.status !== 200) return `Envoy's /ready answered ${ready.status}`;
  } catch (error) {
    return `Envoy's admin socket does not answer (${(error as Error).message})`;
  }
  const url = sidecarUrl(plan, states);
  if (!url) return 'the pod has no address on its network yet';
  try {
    const res = await httpGet(url);
    const ok = plan.service.app.kind === 'static' ? res.status === 200 : res.status < 500;
    return ok ? true : `GET ${url} through the sidecar answered ${res.status}`;
  } catch (error) {
    return `GET ${url} through the sidecar failed (${(error as Error).message})`;
  }
}

/** The published URL when there is one, else the pod's address on the spec's own network. */
function sidecarUrl(plan: PodPlan, states: readonly ContainerState[]): string | undefined {
  if (plan.url) return plan.url;
  const address = states.find((s) => s.addresses[networkName(plan.spec)])?.addresses[networkName(plan.spec)];
  return address ? `http://${address}:${plan.service.sidecar.port}/` : undefined;
}
