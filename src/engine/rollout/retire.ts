import { podPaths, type StateRoots } from '../../mesh/layout.js';
import { GATEWAY } from '../../mesh/names.js';
import { withPods, type MeshFile, type Registry } from '../../mesh/registry.js';
import { removeDir } from '../files.js';
import { drain, waitForFiles, writeMeshFiles, type WatchingEnvoy } from '../envoy/mesh-sync.js';
import { removePods, type DeployedPod } from '../podman/pods.js';

/** Seconds a stopping container gets between SIGTERM and SIGKILL; nginx and Envoy need less. */
export const STOP_SECONDS = 5;
/** How long a deregistered pod may take to finish the requests it holds. */
const DRAIN_MS = 10_000;

/** Where one deployment's pods keep their files and sockets. */
export interface DeploymentPlace {
  readonly specName: string;
  readonly roots: StateRoots;
}

/** The Envoys among `pods` that watch a mesh directory, reached by their admin sockets. */
export function watchingEnvoys(place: DeploymentPlace, pods: readonly Pick<DeployedPod, 'name' | 'service'>[], watchers: ReadonlySet<string>): WatchingEnvoy[] {
  return pods
    .filter((p) => watchers.has(p.service))
    .map((p) => ({ envoy: p.service, pod: p.name, socket: podPaths(place.roots, place.specName, p.name).adminSocket }));
}

/** The registry of the service pods among `pods`: the gateway is no endpoint. */
export function registryOf(pods: readonly Pick<DeployedPod, 'name' | 'service'>[]): Registry {
  return withPods({}, pods.filter((p) => p.service !== GATEWAY).map((p) => ({ service: p.service, pod: p.name })));
}

export interface RetireOptions {
  /** Pods that keep serving: the mesh is rendered for them alone, and their Envoys must apply it. */
  readonly staying: readonly Pick<DeployedPod, 'name' | 'service'>[];
  /** The mesh files for a registry, and which Envoys watch them; absent without a mesh. */
  readonly mesh?: { readonly files: (registry: Registry) => MeshFile[]; readonly watchers: ReadonlySet<string> };
  readonly timeoutMs: number;
  /** Called with the mesh files the deregistration changed. */
  readonly onMeshChange?: (files: readonly MeshFile[]) => void;
}

/**
 * Takes pods out of service without failing a request: every Envoy that routes to them applies
 * a mesh without them, each finishes the requests it holds, and only then are they removed
 * with their files.
 */
export async function retirePods(place: DeploymentPlace, pods: readonly DeployedPod[], options: RetireOptions): Promise<void> {
  if (!pods.length) return;
  if (options.mesh) {
    const since = new Date();
    const changed = await writeMeshFiles(options.mesh.files(registryOf(options.staying)));
    options.onMeshChange?.(changed);
    await waitForFiles(changed, watchingEnvoys(place, options.staying, options.mesh.watchers), options.timeoutMs, since);
    await Promise.all(
      pods
        .filter((p) => p.status === 'Running' && p.service !== GATEWAY)
        .map((p) => drain({ envoy: p.service, pod: p.name, socket: podPaths(place.roots, place.specName, p.name).adminSocket }, DRAIN_MS)),
    );
  }
  await removePods(pods.map((p) => p.name), STOP_SECONDS);
  await Promise.all(pods.map((pod) => removePodFiles(place, pod.name)));
}

/** A pod's rendered files and its run directory. */
export async function removePodFiles(place: DeploymentPlace, pod: string): Promise<void> {
  const paths = podPaths(place.roots, place.specName, pod);
  await removeDir(paths.configDir);
  await removeDir(paths.runDir);
}
