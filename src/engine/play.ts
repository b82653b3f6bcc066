import { chmod, chown } from 'node:fs/promises';
import path from 'node:path';
import { EnvoyConfigError, NginxConfigError } from '../errors.js';
import { CONTAINER_UID, lockFile, podPaths, type PodPaths, type StateRoots } from '../mesh/layout.js';
import { GATEWAY, clusterName, networkName } from '../mesh/names.js';
import type { GatewayPlan, PodPlan } from '../mesh/plan.js';
import { withPods, withoutPods, type MeshFile, type Registry } from '../mesh/registry.js';
import { ensureDir, removeDir, writeFileAtomic } from './files.js';
import {
  drain,
  restoreMeshFiles,
  snapshotMeshFiles,
  waitForFiles,
  waitForHealthyHosts,
  writeMeshFiles,
  type WatchingEnvoy,
} from './mesh-sync.js';
import { withLock } from './lock.js';
import { podman, podmanRaw } from './podman.js';
import { envoyValidateArgs, kubePlayArgs, nginxTestArgs, networkCreateArgs, networkExistsArgs, podStartArgs, podStopArgs } from './podman-args.js';
import { listPods, removePods, type DeployedPod } from './pods.js';
import { assertPortFree } from './ports.js';
import { targetOfDeployed, targetOfGateway, targetOfPlan, waitUntilReady, type ReadinessOptions } from './readiness.js';
import { prepareTls } from './tls.js';

/** Seconds a stopping container gets between SIGTERM and SIGKILL; nginx and Envoy need less. */
export const STOP_SECONDS = 5;
/** How long a deregistered pod may take to finish the requests it holds. */
const DRAIN_MS = 10_000;

export interface PlayOptions extends ReadinessOptions {
  readonly roots: StateRoots;
  readonly onProgress?: (line: string) => void;
}

/** The text of a pod's files, as rendered. */
export interface PodFiles {
  readonly podYaml: string;
  readonly envoyYaml: string;
  /** Only for static services. */
  readonly nginxConf?: string;
}

/** A service pod to run: its plan and its rendered files. */
export interface PlannedPod {
  readonly plan: PodPlan;
  readonly rendered: PodFiles;
}

export interface PlannedGateway {
  readonly plan: GatewayPlan;
  readonly rendered: PodFiles;
}

/** Everything one play runs, rendered. */
export interface PlayInput {
  readonly specName: string;
  readonly services: readonly PlannedPod[];
  readonly gateway?: PlannedGateway;
  /** Renders the mesh directory for a registry; absent when no Envoy of the spec watches one. */
  readonly renderMesh?: (registry: Registry) => MeshFile[];
}

export type ServiceOutcome = 'unchanged' | 'started' | 'created' | 'replaced';

export interface PlayResult {
  readonly spec: string;
  readonly services: readonly { readonly service: string; readonly pod: string; readonly outcome: ServiceOutcome; readonly url?: string }[];
  /** Pods of services the spec no longer has, removed by this play. */
  readonly removed: readonly string[];
  /** Mesh files this play changed (routes, weights, endpoints), each applied by every Envoy watching it. */
  readonly meshChanges: readonly string[];
}

/** A pod this play starts, whichever kind. */
interface Start {
  readonly service: string;
  readonly pod: string;
  readonly paths: PodPaths;
  readonly rendered: PodFiles;
  readonly envoyImage: string;
  /** The image whose nginx checks the pod's nginx config (static sites only). */
  readonly nginxImage?: string;
  /** The pod's mesh directory, which its Envoy (and so its validation) reads at start. */
  readonly xdsDir?: string;
  /** Pods of the same service that the new pod replaces. */
  readonly olds: readonly DeployedPod[];
  /** Host ports' URL, when published. */
  readonly url?: string;
  readonly publishes: readonly { hostIP: string; hostPort: number; where: string }[];
  readonly ready: () => Promise<void>;
  /** Whether the pod exists already and only needs `pod start` (after a reboot). */
  readonly restart: boolean;
}

/**
 * Plays a spec while holding its lock: every service whose pod changed is started beside the
 * old one, checked ready, registered in the mesh, and only then the old pod is deregistered,
 * drained and removed. Any failure before the old pods go removes what this play started and
 * brings back what it stopped, so an earlier deployment stays as it was.
 */
export async function playPods(input: PlayInput, options: PlayOptions): Promise<PlayResult> {
  return withLock(lockFile(options.roots, input.specName), () => playLocked(input, options));
}

async function playLocked(input: PlayInput, options: PlayOptions): Promise<PlayResult> {
  const progress = options.onProgress ?? (() => {});
  const { specName } = input;
  const { roots } = options;
  const network = networkName({ name: specName });
  const existing = await listPods(specName);
  const running = existing.filter((p) => p.status === 'Running');
  const socketOf = (pod: string) => podPaths(roots, specName, pod).adminSocket;

  // Every pod the spec asks for has a name of its own; pods that are not among them retire.
  const planned = new Set([...input.services.map((p) => p.plan.pod), ...(input.gateway ? [input.gateway.plan.pod] : [])]);
  const retiring = existing.filter((pod) => !planned.has(pod.name));
  const wanted = new Set([...input.services.map((p) => p.plan.service.name), ...(input.gateway ? [GATEWAY] : [])]);
  const stale = retiring.filter((pod) => !wanted.has(pod.service));

  const outcomes: PlayResult['services'][number][] = [];
  const starts: Start[] = [];
  for (const { plan, rendered } of input.services) {
    const current = existing.find((pod) => pod.name === plan.pod);
    if (current?.status === 'Running') {
      outcomes.push({ service: plan.service.name, pod: plan.pod, outcome: 'unchanged', ...(plan.url ? { url: plan.url } : {}) });
      continue;
    }
    starts.push({
      service: plan.service.name,
      pod: plan.pod,
      paths: plan.paths,
      rendered,
      envoyImage: plan.images.envoy,
      ...(rendered.nginxConf !== undefined ? { nginxImage: plan.images.nginx } : {}),
      ...(plan.xdsDir ? { xdsDir: plan.xdsDir } : {}),
      olds: retiring.filter((pod) => pod.service === plan.service.name),
      ...(plan.url ? { url: plan.url } : {}),
      publishes: plan.service.sidecar.publish ? [{ ...plan.service.sidecar.publish, where: `services.${plan.service.name}.sidecar.publish` }] : [],
      ready: () => waitUntilReady(targetOfPlan(plan, network), options),
      restart: current !== undefined,
    });
  }
  const gatewayStart = input.gateway && planGatewayStart(input.gateway, existing, retiring, () => waitGateway());
  if (input.gateway && !gatewayStart) {
    outcomes.push({ service: GATEWAY, pod: input.gateway.plan.pod, outcome: 'unchanged', url: input.gateway.plan.url });
  }

  // The registry is what runs: podvoy keeps no other record of it.
  const live = new Map(running.filter((p) => wanted.has(p.service)).map((p) => [p.name, p]));
  const registryOfLive = (): Registry =>
    withPods({}, [...live.values()].filter((p) => p.service !== GATEWAY).map((p) => ({ service: p.service, pod: p.name })));
  // An Envoy watches the mesh files rendered for it: the gateway's, or its service's.
  const watching = new Set((input.renderMesh?.({}) ?? []).map((f) => f.envoy));
  const watchers = (): WatchingEnvoy[] =>
    [...live.values()].filter((p) => watching.has(p.service)).map((p) => ({ envoy: p.service, pod: p.name, socket: socketOf(p.name) }));
  const gatewayWatcher = () => watchers().find((w) => w.envoy === GATEWAY);
  const meshChanges = new Set<string>();
  const syncMesh = async (registry: Registry, onlyMissing = false) => {
    if (!input.renderMesh) return;
    const files = input.renderMesh(registry);
    const missing = onlyMissing ? await snapshotMeshFiles(files) : undefined;
    const changed = await writeMeshFiles(missing ? files.filter((f) => missing.get(f.path) === undefined) : files);
    changed.forEach((f) => meshChanges.add(f.path));
    await waitForFiles(changed, watchers(), options.timeoutMs ?? 30_000);
  };
  async function waitGateway(): Promise<void> {
    const plan = input.gateway!.plan;
    await waitUntilReady(targetOfGateway(plan, network), options);
    const me: WatchingEnvoy = { envoy: GATEWAY, pod: plan.pod, socket: plan.paths.adminSocket };
    const files = input.renderMesh?.(registryOfLive()) ?? [];
    await waitForFiles(files.filter((f) => f.envoy === GATEWAY), [me], options.timeoutMs ?? 30_000);
    const registered = Object.entries(registryOfLive()).flatMap(([service, pods]) => pods.map((pod) => ({ cluster: clusterName(service), pod })));
    await waitForHealthyHosts(me, registered, options.timeoutMs ?? 30_000);
  }

  // Everything that can fail without touching running pods comes first.
  const holdersOk = (url?: string) => existing.some((pod) => url !== undefined && pod.url === url && pod.status !== 'Exited');
  for (const start of [...starts, ...(gatewayStart ? [gatewayStart] : [])]) {
    if (start.restart || holdersOk(start.url)) continue;
    for (const p of start.publishes) await assertPortFree(p.hostIP, p.hostPort, p.where);
  }
  const tls = input.gateway?.plan.tls;
  if (tls) await prepareTls(tls, CONTAINER_UID);
  const snapshot = await snapshotMeshFiles(input.renderMesh?.({}) ?? []);
  // New Envoys need their mesh files to exist; changes to existing files wait until the new pods
  // are registered, so that no route points at a service before it has a pod.
  await syncMesh(registryOfLive(), true);
  // Each check is a container of its own: all at once, and if one fails no new file stays.
  const fresh = [...starts, ...(gatewayStart ? [gatewayStart] : [])].filter((s) => !s.restart);
  const written = await Promise.allSettled(fresh.map((s) => writePodFiles(s, progress)));
  const failed = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const start of fresh) await removePodFiles(start.paths);
    throw failed.reason;
  }
  await ensureNetwork(network, specName);

  const started: string[] = [];
  const stopped: DeployedPod[] = [];
  const startPod = async (start: Start) => {
    if (start.restart) {
      // A pod that was stopped (a reboot, a podvoy killed mid-play) starts as it was; one that
      // cannot start is played afresh from its files.
      progress(`starting ${start.pod}`);
      await ensureRunDir(start.paths);
      const restarted = await podmanRaw(podStartArgs([start.pod]));
      if (restarted.exitCode === 0) {
        progress(`waiting for ${start.pod} to serve`);
        if (await start.ready().then(() => true, () => false)) return;
      }
      progress(`${start.pod} did not come back: playing it afresh`);
    }
    {
      // A published host port can be held by one pod only: the old pod gives it up first.
      const holders = start.olds.filter((pod) => start.url && pod.url === start.url && pod.status !== 'Exited');
      if (holders.length) {
        await podman(podStopArgs(holders.map((p) => p.name), STOP_SECONDS));
        holders.forEach((h) => live.delete(h.name));
        stopped.push(...holders);
      }
      progress(`playing ${start.pod}`);
      started.push(start.pod);
      await removePods([start.pod], 0);
      await podman(kubePlayArgs(start.paths.podYaml, network));
    }
    progress(`waiting for ${start.pod} to serve`);
    await start.ready();
  };
  try {
    for (const start of starts) {
      await startPod(start);
      live.set(start.pod, { name: start.pod, id: '', status: 'Running', spec: specName, service: start.service, revision: '', containers: [] });
      outcomes.push({
        service: start.service,
        pod: start.pod,
        outcome: start.restart ? 'started' : start.olds.length ? 'replaced' : 'created',
        ...(start.url ? { url: start.url } : {}),
      });
    }
    // Register the new pods beside the old ones (and apply route changes), and wait until the
    // gateway sees them healthy.
    if (input.renderMesh) {
      if (starts.length) progress('registering new pods in the mesh');
      await syncMesh(registryOfLive());
      const gw = gatewayWatcher();
      if (gw) await waitForHealthyHosts(gw, starts.map((s) => ({ cluster: clusterName(s.service), pod: s.pod })), options.timeoutMs ?? 30_000);
    }
    if (gatewayStart) {
      for (const old of gatewayStart.olds) live.delete(old.name);
      await startPod(gatewayStart);
      live.set(gatewayStart.pod, { name: gatewayStart.pod, id: '', status: 'Running', spec: specName, service: GATEWAY, revision: '', containers: [] });
      outcomes.push({ service: GATEWAY, pod: gatewayStart.pod, outcome: gatewayStart.restart ? 'started' : gatewayStart.olds.length ? 'replaced' : 'created', url: input.gateway!.plan.url });
    }
  } catch (error) {
    progress('rolling back');
    for (const pod of started) live.delete(pod);
    await removePods(started, 0).catch(() => {});
    for (const start of starts.concat(gatewayStart ?? [])) if (!start.restart) await removePodFiles(start.paths);
    if (stopped.length) {
      await podman(podStartArgs(stopped.map((p) => p.name)));
      stopped.forEach((p) => live.set(p.name, p));
      for (const pod of stopped) await waitUntilReady(targetOfDeployed(pod, socketOf(pod.name), network), options);
    }
    await restoreMeshFiles(snapshot);
    throw error;
  }

  // Deregister what the new pods replace, let it finish its requests, then remove it.
  const retired = retiring;
  if (retired.length) {
    for (const pod of retired) live.delete(pod.name);
    await syncMesh(withoutPods(registryOfLive(), retired.map((p) => p.name)));
    progress(`draining ${retired.map((p) => p.name).join(', ')}`);
    await Promise.all(
      retired
        .filter((p) => p.status === 'Running' && p.service !== GATEWAY)
        .map((p) => drain({ envoy: p.service, pod: p.name, socket: socketOf(p.name) }, DRAIN_MS)),
    );
    await removePods(retired.map((p) => p.name), STOP_SECONDS);
    for (const pod of retired) await removePodFiles(podPaths(roots, specName, pod.name));
  }
  return { spec: specName, services: outcomes, removed: stale.map((p) => p.name), meshChanges: [...meshChanges].sort() };
}

function planGatewayStart(
  gateway: PlannedGateway,
  existing: readonly DeployedPod[],
  retiring: readonly DeployedPod[],
  ready: () => Promise<void>,
): Start | undefined {
  const { plan, rendered } = gateway;
  const current = existing.find((pod) => pod.name === plan.pod);
  if (current?.status === 'Running') return undefined;
  const spec = plan.spec.gateway!;
  return {
    service: GATEWAY,
    pod: plan.pod,
    paths: plan.paths,
    rendered,
    envoyImage: plan.image,
    xdsDir: plan.xdsDir,
    olds: retiring.filter((pod) => pod.service === GATEWAY),
    url: plan.url,
    publishes: [
      { ...spec.http, where: 'gateway.http' },
      ...(spec.https ? [{ ...spec.https, where: 'gateway.https' }] : []),
    ],
    ready,
    restart: current !== undefined,
  };
}

async function writePodFiles(start: Start, progress: (line: string) => void): Promise<void> {
  const { paths, rendered } = start;
  await ensureDir(paths.configDir);
  await ensureRunDir(paths);
  await writeFileAtomic(paths.envoyConf, rendered.envoyYaml);
  if (rendered.nginxConf !== undefined) await writeFileAtomic(paths.nginxConf, rendered.nginxConf);
  await writeFileAtomic(paths.podYaml, rendered.podYaml);
  progress(`checking ${paths.envoyConf} with envoy --mode validate`);
  const result = await podmanRaw(envoyValidateArgs(start.envoyImage, paths.envoyConf, start.xdsDir));
  if (result.exitCode !== 0) {
    await removePodFiles(paths);
    throw new EnvoyConfigError(paths.envoyConf, `${result.stdout}\n${result.stderr}`);
  }
  if (start.nginxImage !== undefined && rendered.nginxConf !== undefined) {
    progress(`checking ${paths.nginxConf} with nginx -t`);
    const nginx = await podmanRaw(nginxTestArgs(start.nginxImage, paths.nginxConf));
    if (nginx.exitCode !== 0) {
      await removePodFiles(paths);
      throw new NginxConfigError(paths.nginxConf, `${nginx.stdout}\n${nginx.stderr}`);
    }
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

/**
 * A pod's run directory (root's alone) with the admin socket's directory, owned by Envoy's
 * unprivileged user, and the app's /tmp (sticky and open to all, as /tmp is: the app image
 * picks its user). Made again before a restart, as /run does not survive a reboot.
 */
async function ensureRunDir(paths: PodPaths): Promise<void> {
  await ensureDir(path.dirname(paths.runDir));
  await ensureDir(paths.runDir);
  await ensureDir(paths.adminDir);
  await chown(paths.adminDir, CONTAINER_UID, CONTAINER_UID);
  await ensureDir(paths.tmpDir);
  await chmod(paths.tmpDir, 0o1777);
}
