import type { StateRoots } from '../../mesh/layout.js';
import type { DeploymentPlan } from '../../mesh/plan.js';
import { withLock } from './lock.js';
import { snapshotMeshFiles } from '../envoy/mesh-sync.js';
import { podPsArgs } from '../podman/args.js';
import { takeEarly } from '../podman/early.js';
import { listPods, parsePodList, type DeployedPod } from '../podman/pods.js';
import { readChangeMark } from './change-mark.js';
import { executeRollout, type ExecuteOptions, type PlayResult } from './execute.js';
import { planRollout, type RolloutPlan } from './plan.js';

/**
 * A spec's pods: from the CLI's listing of every podvoy pod, started before podvoy loaded, if
 * the change mark read before it began is still the mark (no podvoy command has let go of a
 * lock since, so none changed pods meanwhile); else listed now. A mesh change then waits for
 * no podman listing of its own.
 */
export async function listSpecPods(roots: StateRoots, specName: string): Promise<DeployedPod[]> {
  const early = await takeEarly(podPsArgs(), readChangeMark(roots));
  if (early?.exitCode === 0) return parsePodList(early.stdout).filter((pod) => pod.spec === specName);
  return listPods(specName);
}

/** What runs now and what the mesh files say, read once: everything else is planned from it. */
async function observe(deployment: DeploymentPlan): Promise<{ existing: DeployedPod[]; plan: RolloutPlan }> {
  const [existing, meshOnDisk] = await Promise.all([
    listSpecPods(deployment.roots, deployment.spec.name),
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
  return withLock(where.roots, where.specName, async () => {
    const [deployment, existing] = await Promise.all([prepare(), listSpecPods(where.roots, where.specName)]);
    const meshOnDisk = await snapshotMeshFiles(deployment.meshFiles(deployment.registry));
    return executeRollout(planRollout(deployment, existing, meshOnDisk), deployment, existing, options);
  });
}
