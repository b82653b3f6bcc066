import { NotDeployedError } from '../errors.js';
import { lockFile, podPaths, specStateDir, type StateRoots } from '../mesh/layout.js';
import { GATEWAY, networkName } from '../mesh/names.js';
import { withPods, type MeshFile, type Registry } from '../mesh/registry.js';
import { removeDir } from './files.js';
import { withLock } from './lock.js';
import { drain, waitForFiles, writeMeshFiles } from './mesh-sync.js';
import { podman, podmanRaw } from './podman.js';
import { networkExistsArgs, networkRmArgs } from './podman-args.js';
import { STOP_SECONDS, removePodFiles } from './play.js';
import { listPods, removePods } from './pods.js';

export interface DownResult {
  readonly spec: string;
  readonly pods: readonly string[];
  readonly network?: string;
}

export interface DownOptions {
  /** Take down only this service (or `gateway`); the rest of the mesh keeps serving. */
  readonly service?: string;
  /** Renders the mesh directory for a registry, to deregister the service first. */
  readonly renderMesh?: (registry: Registry) => MeshFile[];
  readonly timeoutMs?: number;
}

const DRAIN_MS = 10_000;

/** Removes every pod, file and the network that playing a spec created, or one service's pods. */
export async function downSpec(specName: string, roots: StateRoots, options: DownOptions = {}): Promise<DownResult> {
  return withLock(lockFile(roots, specName), async () => {
    const pods = await listPods(specName);
    if (options.service !== undefined) {
      const targets = pods.filter((p) => p.service === options.service);
      if (!targets.length) {
        const services = [...new Set(pods.map((p) => p.service))].join(', ') || 'none';
        throw new NotDeployedError(`Service "${options.service}" of ${specName} is not deployed (deployed: ${services}).`);
      }
      const live = pods.filter((p) => p.status === 'Running' && p.service !== options.service);
      if (options.renderMesh) {
        // Deregister first: every Envoy that routes to the service stops before its pods do.
        const registry = withPods({}, live.filter((p) => p.service !== GATEWAY).map((p) => ({ service: p.service, pod: p.name })));
        const files = options.renderMesh(registry);
        const changed = await writeMeshFiles(files);
        const envoys = new Set(files.map((f) => f.envoy));
        const watchers = live
          .filter((p) => envoys.has(p.service))
          .map((p) => ({ envoy: p.service, pod: p.name, socket: podPaths(roots, specName, p.name).adminSocket }));
        await waitForFiles(changed, watchers, options.timeoutMs ?? 30_000);
        await Promise.all(
          targets
            .filter((p) => p.status === 'Running')
            .map((p) => drain({ envoy: p.service, pod: p.name, socket: podPaths(roots, specName, p.name).adminSocket }, DRAIN_MS)),
        );
      }
      await removePods(targets.map((p) => p.name), STOP_SECONDS);
      for (const pod of targets) await removePodFiles(podPaths(roots, specName, pod.name));
      return { spec: specName, pods: targets.map((p) => p.name) };
    }
    await removePods(pods.map((p) => p.name), STOP_SECONDS);
    for (const pod of pods) await removePodFiles(podPaths(roots, specName, pod.name));
    await removeDir(specStateDir(roots, specName));
    const network = networkName({ name: specName });
    const hadNetwork = (await podmanRaw(networkExistsArgs(network))).exitCode === 0;
    if (hadNetwork) await podman(networkRmArgs(network));
    return { spec: specName, pods: pods.map((p) => p.name), ...(hadNetwork ? { network } : {}) };
  });
}
