import { networkName } from '../mesh/names.js';
import { podPaths, specStateDir, type StateRoots } from '../mesh/layout.js';
import { removeDir } from './files.js';
import { podman, podmanRaw } from './podman.js';
import { networkExistsArgs, networkRmArgs } from './podman-args.js';
import { listPods, removePods } from './pods.js';
import { STOP_SECONDS, removePodFiles } from './play.js';

export interface DownResult {
  readonly spec: string;
  readonly pods: readonly string[];
  readonly network?: string;
}

/** Removes every pod, file and the network that playing a spec created. */
export async function downSpec(specName: string, roots: StateRoots): Promise<DownResult> {
  const pods = await listPods(specName);
  await removePods(pods.map((p) => p.name), STOP_SECONDS);
  for (const pod of pods) await removePodFiles(podPaths(roots, specName, pod.name));
  await removeDir(specStateDir(roots, specName));
  const network = networkName({ name: specName });
  const hadNetwork = (await podmanRaw(networkExistsArgs(network))).exitCode === 0;
  if (hadNetwork) await podman(networkRmArgs(network));
  return { spec: specName, pods: pods.map((p) => p.name), ...(hadNetwork ? { network } : {}) };
}
