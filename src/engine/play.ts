import { EnvoyConfigError } from '../errors.js';
import { networkName } from '../mesh/names.js';
import type { PodPlan } from '../mesh/plan.js';
import { podPaths, type PodPaths, type StateRoots } from '../mesh/layout.js';
import { ensureDir, removeDir, writeFileAtomic } from './files.js';
import { podman, podmanRaw } from './podman.js';
import {
  envoyValidateArgs,
  kubePlayArgs,
  networkCreateArgs,
  networkExistsArgs,
  podStartArgs,
  podStopArgs,
} from './podman-args.js';
import { listPods, removePods, type DeployedPod } from './pods.js';
import { assertPortFree } from './ports.js';
import { targetOfDeployed, targetOfPlan, waitUntilReady, type ReadinessOptions } from './readiness.js';

/** Seconds a stopping container gets between SIGTERM and SIGKILL; nginx and Envoy need less. */
export const STOP_SECONDS = 5;

export interface PlayOptions extends ReadinessOptions {
  readonly roots: StateRoots;
  readonly onProgress?: (line: string) => void;
}

export type ServiceOutcome = 'unchanged' | 'started' | 'created' | 'replaced';

export interface PlayResult {
  readonly spec: string;
  readonly services: readonly { readonly service: string; readonly pod: string; readonly outcome: ServiceOutcome; readonly url?: string }[];
  /** Pods of services the spec no longer has, removed by this play. */
  readonly removed: readonly string[];
}

/** The text of a pod's files, as rendered. */
export interface PodFiles {
  readonly podYaml: string;
  readonly envoyYaml: string;
  /** Only for static services. */
  readonly nginxConf?: string;
}

/** A pod to run: its plan and its rendered files. */
export interface PlannedPod {
  readonly plan: PodPlan;
  readonly rendered: PodFiles;
}

interface Change {
  readonly plan: PodPlan;
  readonly rendered: PodFiles;
  /** Pods of this service that the new pod replaces. */
  readonly olds: readonly DeployedPod[];
}

/**
 * Plays a spec: every service whose pod changed is started beside the old one, checked ready,
 * and only then the old pod is removed. Any failure removes what this play started and brings
 * back what it stopped, so an earlier deployment stays as it was.
 */
export async function playPods(specName: string, planned: readonly PlannedPod[], options: PlayOptions): Promise<PlayResult> {
  const progress = options.onProgress ?? (() => {});
  const network = networkName({ name: specName });
  const plans = planned.map((p) => p.plan);
  const existing = await listPods(specName);

  const outcomes: PlayResult['services'][number][] = [];
  const changes: Change[] = [];
  const toStart: PodPlan[] = [];
  for (const { plan, rendered } of planned) {
    const mine = existing.filter((pod) => pod.service === plan.service.name);
    const same = mine.find((pod) => pod.revision === plan.revision);
    if (same && mine.length === 1) {
      if (same.status === 'Running') {
        outcomes.push({ service: plan.service.name, pod: plan.pod, outcome: 'unchanged', url: plan.url });
      } else {
        toStart.push(plan);
      }
      continue;
    }
    changes.push({ plan, rendered, olds: mine.filter((pod) => pod.revision !== plan.revision) });
  }
  const wanted = new Set(plans.map((p) => p.service.name));
  const stale = existing.filter((pod) => !wanted.has(pod.service));

  // Everything that can fail without side effects on running pods comes first.
  for (const { plan } of changes) await assertPublishable(plan, existing);
  for (const change of changes) await writePodFiles(change, progress);
  await ensureNetwork(network, specName);

  const started: string[] = [];
  const stopped: DeployedPod[] = [];
  try {
    for (const plan of toStart) {
      progress(`starting ${plan.pod}`);
      await podman(podStartArgs([plan.pod]));
      await waitUntilReady(targetOfPlan(plan, network), options);
      outcomes.push({ service: plan.service.name, pod: plan.pod, outcome: 'started', url: plan.url });
    }
    for (const { plan, olds } of changes) {
      // A published host port can be held by one pod only: the old pod gives it up first.
      const holders = [...olds, ...stale].filter((pod) => plan.url && pod.url === plan.url && pod.status !== 'Exited');
      if (holders.length) {
        await podman(podStopArgs(holders.map((p) => p.name), STOP_SECONDS));
        stopped.push(...holders);
      }
      progress(`playing ${plan.pod}`);
      started.push(plan.pod);
      // A pod of this very revision can be left over from a play that was interrupted.
      if (existing.some((pod) => pod.name === plan.pod)) await removePods([plan.pod], 0);
      await podman(kubePlayArgs(plan.paths.podYaml, network));
      progress(`waiting for ${plan.pod} to serve`);
      await waitUntilReady(targetOfPlan(plan, network), options);
      outcomes.push({ service: plan.service.name, pod: plan.pod, outcome: olds.length ? 'replaced' : 'created', url: plan.url });
    }
  } catch (error) {
    progress('rolling back');
    await removePods(started, 0).catch(() => {});
    for (const { plan } of changes) await removePodFiles(plan.paths);
    if (stopped.length) {
      await podman(podStartArgs(stopped.map((p) => p.name)));
      for (const pod of stopped) {
        await waitUntilReady(targetOfDeployed(pod, podPaths(options.roots, specName, pod.name).adminSocket, network), options);
      }
    }
    throw error;
  }

  const retired = [...changes.flatMap((c) => c.olds), ...stale];
  if (retired.length) {
    await removePods(retired.map((p) => p.name), STOP_SECONDS);
    for (const pod of retired) await removePodFiles(podPaths(options.roots, specName, pod.name));
  }
  return { spec: specName, services: outcomes, removed: stale.map((p) => p.name) };
}

/** Fails before anything starts if a published port is taken by something other than this spec. */
async function assertPublishable(plan: PodPlan, existing: readonly DeployedPod[]): Promise<void> {
  const publish = plan.service.sidecar.publish;
  if (!publish) return;
  if (existing.some((pod) => pod.url === plan.url && pod.status !== 'Exited')) return;
  await assertPortFree(publish.hostIP, publish.hostPort, `services.${plan.service.name}.sidecar.publish`);
}

async function writePodFiles({ plan, rendered }: Change, progress: (line: string) => void): Promise<void> {
  const { paths } = plan;
  await ensureDir(paths.configDir);
  await ensureDir(paths.runDir);
  await writeFileAtomic(paths.envoyConf, rendered.envoyYaml);
  if (rendered.nginxConf !== undefined) await writeFileAtomic(paths.nginxConf, rendered.nginxConf);
  await writeFileAtomic(paths.podYaml, rendered.podYaml);
  progress(`checking ${paths.envoyConf} with envoy --mode validate`);
  const result = await podmanRaw(envoyValidateArgs(plan.images.envoy, paths.envoyConf));
  if (result.exitCode !== 0) {
    await removePodFiles(paths);
    throw new EnvoyConfigError(paths.envoyConf, `${result.stdout}\n${result.stderr}`);
  }
}

export async function removePodFiles(paths: PodPaths): Promise<void> {
  await removeDir(paths.configDir);
  await removeDir(paths.runDir);
}

async function ensureNetwork(network: string, specName: string): Promise<void> {
  if ((await podmanRaw(networkExistsArgs(network))).exitCode === 0) return;
  await podman(networkCreateArgs(network, specName));
}
