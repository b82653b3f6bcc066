import { lockFile, type StateRoots } from '../../mesh/layout.js';
import type { DeploymentPlan } from '../../mesh/plan.js';
import { withLock } from './lock.js';
import { snapshotMeshFiles } from '../envoy/mesh-sync.js';
import { listPods, type DeployedPod } from '../podman/pods.js';
import { executeRollout, type ExecuteOptions, type PlayResult } from './execute.js';
import { planRollout, type RolloutPlan } from './plan.js';

/** What runs now and what the mesh files say, read once: everything else is planned from it. */
async function observe(deployment: DeploymentPlan): Promise<{ existing: DeployedPod[]; plan: RolloutPlan }> {
  const [existing, meshOnDisk] = await Promise.all([
    listPods(deployment.spec.name),
    snapshotMeshFiles(deployment.meshFiles(deployment.registry)),
  ]);
  return { existing, plan: planRollout(deployment, existing, meshOnDisk) };
}

/** What playing a deployment would do now; starts and writes nothing. */
export async function planPlay(deployment: DeploymentPlan): Promise<RolloutPlan> {
  return (await observe(deployment)).plan;
}

/**
 * Plays a deployment while holding its lock: the plan `planPlay` shows, walked. The pods are
 * listed while the deployment is prepared (images resolved, pods rendered): both ask podman,
 * and a mesh change waits for neither twice.
 */
export async function playDeployment(
  where: { readonly specName: string; readonly roots: StateRoots },
  prepare: () => Promise<DeploymentPlan>,
  options: ExecuteOptions = {},
): Promise<PlayResult> {
  return withLock(lockFile(where.roots, where.specName), async () => {
    const [deployment, existing] = await Promise.all([prepare(), listPods(where.specName)]);
    const meshOnDisk = await snapshotMeshFiles(deployment.meshFiles(deployment.registry));
    return executeRollout(planRollout(deployment, existing, meshOnDisk), deployment, existing, options);
  });
}
