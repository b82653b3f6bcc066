import { NotDeployedError } from '../../errors.js';
import { specStateDir, type StateRoots } from '../../mesh/layout.js';
import { networkName } from '../../mesh/names.js';
import type { DeploymentPlan } from '../../mesh/plan.js';
import { removeDir } from '../files.js';
import { withLock } from './lock.js';
import { podman, podmanSucceeds } from '../podman/podman.js';
import { networkExistsArgs, networkRmArgs } from '../podman/args.js';
import { listPods } from '../podman/pods.js';
import { retirePods } from './retire.js';

export interface DownResult {
  readonly spec: string;
  readonly pods: readonly string[];
  readonly network?: string;
}

/** Removes every pod, file and the network that playing a spec created. */
export async function downDeployment(specName: string, roots: StateRoots): Promise<DownResult> {
  return withLock(roots, specName, async () => {
    const pods = await listPods(specName);
    await retirePods({ specName, roots }, pods, { staying: [], timeoutMs: 0 });
    await removeDir(specStateDir(roots, specName));
    const network = networkName({ name: specName });
    const hadNetwork = await podmanSucceeds(networkExistsArgs(network));
    if (hadNetwork) await podman(networkRmArgs(network));
    return { spec: specName, pods: pods.map((p) => p.name), ...(hadNetwork ? { network } : {}) };
  });
}

/**
 * Takes one service (or the gateway) out of a running mesh: deregistered first, so every Envoy
 * that routes to it stops before its pods do, then drained and removed.
 */
export async function downService(deployment: DeploymentPlan, service: string, options: { timeoutMs?: number } = {}): Promise<DownResult> {
  const { roots, spec } = deployment;
  return withLock(roots, spec.name, async () => {
    const pods = await listPods(spec.name);
    const targets = pods.filter((p) => p.service === service);
    if (!targets.length) {
      const services = [...new Set(pods.map((p) => p.service))].join(', ') || 'none';
      throw new NotDeployedError(`Service "${service}" of ${spec.name} is not deployed (deployed: ${services}).`);
    }
    await retirePods({ specName: spec.name, roots }, targets, {
      staying: pods.filter((p) => p.status === 'Running' && p.service !== service),
      ...(deployment.meshWatchers.size ? { mesh: { files: deployment.meshFiles, watchers: deployment.meshWatchers } } : {}),
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    return { spec: spec.name, pods: targets.map((p) => p.name) };
  });
}
