import { chmod, chown } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { EngineCommandError, EnvoyConfigError, NginxConfigError, PodNotReadyError, RollbackIncompleteError } from '../../errors.js';
import { IN_POD, clusterName } from '../../mesh/contract.js';
import { podPaths, type PodPaths } from '../../mesh/layout.js';
import { GATEWAY } from '../../mesh/names.js';
import type { DeploymentPlan, GatewayPlan, PodPlan } from '../../mesh/plan.js';
import { servicesCalledBy, type MeshFile, type Registry } from '../../mesh/registry.js';
import { ensureDir, writeFileAtomic } from '../files.js';
import { hostKey, hostsSeen, restoreMeshFiles, snapshotMeshFiles, waitForFiles, waitForHealthyHosts, writeMeshFiles, type WatchingEnvoy } from '../envoy/mesh-sync.js';
import { podman, podmanSucceeds } from '../podman/podman.js';
import { envoyValidateArgs, kubePlayArgs, nginxTestArgs, networkCreateArgs, networkExistsArgs, networkRmArgs, podStartArgs, podStopArgs } from '../podman/args.js';
import { removePods, type DeployedPod } from '../podman/pods.js';
import { assertPortFree } from '../ports.js';
import { targetOfDeployed, targetOfGateway, targetOfPlan, waitUntilReady, type ReadinessOptions } from '../envoy/readiness.js';
import { assertInotifyRoom } from '../host-limits.js';
import { ensureMeshCertificates, listMeshCertificates, type CertificatesResult } from '../pki/index.js';
import { prepareTls } from '../tls.js';
import { ensureAcmeCertificate, prepareAcmeTls, type AcmeOptions, type AcmeStatus } from '../acme/index.js';
import { configRejection } from './config-rejection.js';
import type { PodAction, PodStart, RolloutPlan } from './plan.js';
import { STOP_SECONDS, registryOf, removePodFiles, retirePods, watchingEnvoys, type DeploymentPlace } from './retire.js';

export interface ExecuteOptions extends ReadinessOptions {
  readonly onProgress?: (line: string) => void;
  /** How many pods start at once. @default the number of cores */
  readonly concurrency?: number;
  /** With `gateway.tls.acme`: force an order now, or trust a private ACME server's certificate. */
  readonly acme?: Pick<AcmeOptions, 'force' | 'trust'>;
}

export type ServiceOutcome = 'unchanged' | 'started' | 'created' | 'replaced';

export interface PlayResult {
  readonly spec: string;
  readonly services: readonly { readonly service: string; readonly pod: string; readonly outcome: ServiceOutcome; readonly url?: string }[];
  /** Pods of services the spec no longer has, removed by this play. */
  readonly removed: readonly string[];
  /** Mesh files this play changed (routes, weights, endpoints), each applied by every Envoy watching it. */
  readonly meshChanges: readonly string[];
  /** With mTLS: the mesh's certificates after this play, and which it renewed. */
  readonly certificates?: CertificatesResult;
  /** In a mesh: whether its hops are mutual TLS (`on`) or plain HTTP (`off`, the spec says `mtls: false`). */
  readonly mtls?: 'on' | 'off';
  /** With `gateway.tls.acme`: the gateway's certificate, and the ACME server's error if it issued none. */
  readonly acme?: AcmeStatus;
}

const OUTCOME: Record<PodAction, ServiceOutcome> = { create: 'created', replace: 'replaced', restart: 'started' };

/**
 * Walks a rollout plan: every pod that starts does so beside the one it replaces (all at once,
 * bounded by the cores), is checked ready, and is registered in the mesh; a new gateway starts
 * with the services, one that replaces another once they are registered; only then are old pods
 * deregistered, drained and removed. A pod's Envoy and nginx check their configs as they start
 * (a rejection fails the pod, named from its logs); only a pod that takes a host port from an
 * older one has them checked first, in containers of its images.
 * Any failure before old pods go removes what this rollout started and brings back what it
 * stopped, so an earlier deployment stays as it was. The caller holds the deployment's lock.
 */
export async function executeRollout(
  plan: RolloutPlan,
  deployment: DeploymentPlan,
  existing: readonly DeployedPod[],
  options: ExecuteOptions = {},
): Promise<PlayResult> {
  const progress = options.onProgress ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 30_000;
  const place: DeploymentPlace = { specName: plan.spec, roots: deployment.roots };
  const watchers = deployment.meshWatchers;
  const hasMesh = watchers.size > 0;
  const meshChanges = new Set<string>();
  const starts = [...plan.starts, ...(plan.gateway ? [plan.gateway] : [])];

  // The registry is what serves: podvoy keeps no other record of it.
  const wanted = new Set([...deployment.spec.services.map((s) => s.name), ...(deployment.gateway ? [GATEWAY] : [])]);
  const live = new Map(existing.filter((p) => p.status === 'Running' && wanted.has(p.service)).map((p) => [p.name, p]));
  // Pods this play replaces serve until their replacements do; no Envoy waits on them, nor for
  // them (their files are now their replacements', which one without mTLS cannot load).
  const replaced = new Set(plan.retire.map((p) => p.name));
  /** Writes the mesh files of `registry` and waits until the Envoys of `serving` (every live pod by default) run them. */
  const syncMesh = async (registry: Registry, options: { onlyMissing?: boolean; serving?: readonly DeployedPod[] } = {}): Promise<void> => {
    if (!hasMesh) return;
    const files = deployment.meshFiles(registry);
    const missing = options.onlyMissing ? await snapshotMeshFiles(files) : undefined;
    const since = new Date();
    const changed = await writeMeshFiles(missing ? files.filter((f) => missing.get(f.path) === undefined) : files);
    noteChanges(changed);
    await waitForFiles(changed, watchingEnvoys(place, options.serving ?? [...live.values()], watchers), timeoutMs, since);
  };
  const noteChanges = (files: readonly MeshFile[]) => files.forEach((f) => meshChanges.add(f.path));

  // Everything that can fail without touching running pods comes first.
  const portHeld = (url?: string) => existing.some((pod) => url !== undefined && pod.url === url && pod.status !== 'Exited');
  for (const start of starts) {
    if (start.action === 'restart' || portHeld(start.url)) continue;
    for (const p of start.publishes) await assertPortFree(p.hostIP, p.hostPort, p.where);
  }
  if (starts.length) await assertInotifyRoom(deployment.pods.length + (deployment.gateway ? 1 : 0));
  const tls = deployment.gateway?.plan.tls;
  if (tls && plan.gateway) await prepareTls(tls, IN_POD.uid);
  if (deployment.acme) await prepareAcmeTls(deployment.acme);
  // Every identity is made or renewed before a pod that needs it starts. When no pod starts, the
  // renewal check comes after the mesh files: a route change does not wait for it.
  const meshTls = deployment.meshTls;
  const ensureIdentities = async () =>
    meshTls &&
    ensureMeshCertificates(meshTls.plan, {
      roots: deployment.roots,
      sds: meshTls.sds,
      onProgress: progress,
      timeoutMs,
      ...(live.size ? { running: [...live.values()] } : { envoys: 'none' as const }),
    });
  // The network is made meanwhile; a deployment that had no pod keeps none if this play fails.
  const network = starts.length ? settle(ensureNetwork(plan.network, plan.spec)) : Promise.resolve({ value: false });
  const dropNetwork = async () => {
    const made = await network;
    if ('value' in made && made.value && !existing.length) await podman(networkRmArgs(plan.network)).catch(() => {});
  };
  let certificates = starts.length ? await ensureIdentities().catch(async (error: unknown) => {
    await dropNetwork();
    throw error;
  }) : undefined;
  const snapshot = await snapshotMeshFiles(deployment.meshFiles(deployment.registry));
  // New Envoys need their mesh files to exist; changes to existing files wait until the new pods
  // are registered, so that no route points at a service before it has a pod.
  await syncMesh(registryOf([...live.values()]), { onlyMissing: true });
  const fresh = starts.filter((s) => s.action !== 'restart');
  const written = await Promise.allSettled(fresh.map((s) => writePodFiles(s)));
  const unwritten = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const made = await network;
  if (unwritten || 'error' in made) {
    await Promise.all(fresh.map((s) => removePodFiles(place, s.pod)));
    await dropNetwork();
    throw unwritten ? unwritten.reason : (made as { error: unknown }).error;
  }

  const started: string[] = [];
  const stopped: DeployedPod[] = [];
  const outcomes: PlayResult['services'][number][] = plan.unchanged.map((u) => ({ ...u, outcome: 'unchanged' as const }));
  const serve = async (start: PodStart, ready: () => Promise<void>): Promise<void> => {
    if (start.action === 'restart') {
      // A pod that was stopped (a reboot, a podvoy killed mid-play) starts as it was; one that
      // cannot start is played afresh from its files.
      progress(`starting ${start.pod}`);
      await ensureRunDir(start.paths);
      if ((await podmanSucceeds(podStartArgs([start.pod]))) && (await ready().then(() => true, () => false))) return;
      progress(`${start.pod} did not come back: playing it afresh`);
    }
    // A published host port can be held by one pod only: the old pod gives it up first, and
    // only for configs checked beforehand. Other pods check their configs by starting (below).
    if (start.portHolders.length) {
      progress(`checking ${start.pod}'s configuration with envoy --mode validate and nginx -t`);
      await checkPodConfigs(start);
      await podman(podStopArgs(start.portHolders.map((p) => p.name), STOP_SECONDS));
      start.portHolders.forEach((h) => live.delete(h.name));
      stopped.push(...start.portHolders);
    }
    progress(`playing ${start.pod}`);
    started.push(start.pod);
    // What a killed play left under this name goes first.
    if (existing.some((p) => p.name === start.pod)) await removePods([start.pod], 0);
    await podman(kubePlayArgs(start.paths.podYaml, plan.network));
    progress(`waiting for ${start.pod} to serve`);
    await ready().catch((error: unknown) => {
      throw (error instanceof PodNotReadyError && configRejection(start.pod, start.paths, error.logs)) || error;
    });
  };
  const markServing = (start: PodStart) => {
    live.set(start.pod, { name: start.pod, id: '', status: 'Running', spec: plan.spec, service: start.service, revision: '', containers: [] });
    outcomes.push({ service: start.service, pod: start.pod, outcome: OUTCOME[start.action], ...(start.url ? { url: start.url } : {}) });
  };

  // A gateway that replaces none starts beside the services (first, as Envoy's start-up is the
  // longest): until they are registered it routes nowhere, and play waits below until it sees
  // them healthy. One that replaces another starts last, to keep the old one serving meanwhile.
  const early = plan.gateway?.action === 'create' ? plan.gateway : undefined;
  const late = early ? undefined : plan.gateway;
  try {
    await inParallel([...(early ? [early] : []), ...plan.starts], options.concurrency ?? availableParallelism(), async (start) => {
      const target = start === early ? targetOfGateway(early.planned.plan as GatewayPlan, plan.network) : targetOfPlan(start.planned.plan as PodPlan, plan.network);
      await serve(start, () => waitUntilReady(target, options));
      markServing(start);
    });
    // Register the new pods beside the old ones (and apply route changes), and wait until the
    // gateway sees healthy every pod it did not route to before: those started now, and those a
    // killed play started but never registered. Only then may old pods be drained.
    if (hasMesh) {
      if (plan.starts.length) progress('registering new pods in the mesh');
      const registry = registryOf([...live.values()]);
      const files = deployment.meshFiles(registry);
      const staying = [...live.values()].filter((p) => !replaced.has(p.name));
      // Only a changed clusters file can give an Envoy new hosts: a route change asks nothing first.
      const gaining = watchingEnvoys(place, staying, watchers).filter((envoy) => {
        const clusters = files.find((f) => f.envoy === envoy.envoy && f.kind === 'clusters');
        return clusters !== undefined && snapshot.get(clusters.path) !== clusters.text;
      });
      const seen = await Promise.all(gaining.map((envoy) => hostsSeen(envoy)));
      await syncMesh(registry, { serving: staying });
      // The gateway, and each sidecar that calls upstreams, must see its new hosts healthy
      // (resolved, health-checked) before play returns or drains what they replace.
      await Promise.all(
        gaining.map((envoy, i) =>
          waitForHealthyHosts(envoy, hostsCalledBy(envoy.envoy, registry).filter((h) => !seen[i]!.has(hostKey(h.cluster, h.pod))), timeoutMs),
        ),
      );
    }
    if (early) await waitGateway(early.planned.plan as GatewayPlan);
    if (late) {
      for (const old of plan.retire.filter((p) => p.service === GATEWAY)) live.delete(old.name);
      await serve(late, () => waitGateway(late.planned.plan as GatewayPlan));
      markServing(late);
    }
  } catch (error) {
    progress('rolling back');
    for (const pod of started) live.delete(pod);
    const removal = await removePods(started, 0).then(
      () => undefined,
      (failure: Error) => failure,
    );
    await Promise.all(fresh.map((s) => removePodFiles(place, s.pod)));
    // The files first: a pod started again below reads them as it starts.
    await restoreMeshFiles(snapshot);
    if (stopped.length) {
      await podman(podStartArgs(stopped.map((p) => p.name)));
      stopped.forEach((p) => live.set(p.name, p));
      await Promise.all(
        stopped.map((pod) => waitUntilReady(targetOfDeployed(pod, adminSocketOf(place, pod.name), plan.network), options)),
      );
    }
    await dropNetwork();
    if (removal) throw new RollbackIncompleteError(error as Error, removal);
    throw error;
  }

  async function waitGateway(gateway: GatewayPlan): Promise<void> {
    await waitUntilReady(targetOfGateway(gateway, plan.network), options);
    const me: WatchingEnvoy = { envoy: GATEWAY, pod: gateway.pod, socket: gateway.paths.adminSocket };
    const registry = registryOf([...live.values()]);
    // A new gateway read its files as it started: a refusal is anywhere in its log.
    await waitForFiles(deployment.meshFiles(registry).filter((f) => f.envoy === GATEWAY), [me], timeoutMs, new Date(0));
    await waitForHealthyHosts(me, hostsCalledBy(GATEWAY, registry), timeoutMs);
  }

  /** The registered pods an Envoy routes to and must see healthy, as hosts of its clusters: not those being replaced. */
  function hostsCalledBy(envoy: string, registry: Registry): { cluster: string; pod: string }[] {
    return servicesCalledBy(deployment.spec, envoy).flatMap((s) =>
      (registry[s.name] ?? []).filter((pod) => !replaced.has(pod)).map((pod) => ({ cluster: clusterName(s.name), pod })),
    );
  }

  if (!starts.length) certificates = await ensureIdentities();

  if (plan.retire.length) {
    for (const pod of plan.retire) live.delete(pod.name);
    progress(`draining ${plan.retire.map((p) => p.name).join(', ')}`);
    await retirePods(place, plan.retire, {
      staying: [...live.values()],
      ...(hasMesh ? { mesh: { files: deployment.meshFiles, watchers } } : {}),
      timeoutMs,
      onMeshChange: noteChanges,
    });
  }
  // HTTP-01 needs the gateway serving: the certificate is asked for last, and a failure leaves
  // the deployment as played, with the certificate it had.
  const gatewayEnvoy = watchingEnvoys(place, [...live.values()], watchers).find((w) => w.envoy === GATEWAY);
  const acme =
    deployment.acme &&
    gatewayEnvoy &&
    (await ensureAcmeCertificate(plan.spec, deployment.acme, gatewayEnvoy, { roots: deployment.roots, onProgress: progress, timeoutMs, ...options.acme }));
  // In the spec's order, whichever pod served first.
  const order = [...deployment.pods, ...(deployment.gateway ? [deployment.gateway] : [])].map((p) => p.plan.pod);
  outcomes.sort((a, b) => order.indexOf(a.pod) - order.indexOf(b.pod));
  return {
    spec: plan.spec,
    services: outcomes,
    removed: plan.removed.map((p) => p.name),
    meshChanges: [...meshChanges].sort(),
    ...(acme ? { acme } : {}),
    // Described again: the Envoys serving each certificate are the pods that run now.
    ...(certificates ? { certificates: { ...(await listMeshCertificates(plan.spec, { roots: deployment.roots, running: [...live.values()] })), renewed: certificates.renewed } } : {}),
  };
}

/** Runs `task` for each item, at most `limit` at a time; waits for all, then throws the first failure. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    // After a failure nothing new starts; what runs finishes, so that rollback sees it all.
    for (let item = queue.shift(); item !== undefined && !failure; item = queue.shift()) {
      await task(item).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

function adminSocketOf(place: DeploymentPlace, pod: string): string {
  return podPaths(place.roots, place.specName, pod).adminSocket;
}

/** Writes a pod's files: its configs, its pod YAML, its run directory. */
async function writePodFiles(start: PodStart): Promise<void> {
  const { paths, files } = start;
  await ensureDir(paths.configDir);
  await ensureRunDir(paths);
  await writeFileAtomic(paths.envoyConf, files.envoyYaml);
  if (files.nginxConf !== undefined) await writeFileAtomic(paths.nginxConf, files.nginxConf);
  await writeFileAtomic(paths.podYaml, files.podYaml);
}

/** Checks a pod's Envoy and nginx configs, at once, with the very images the pod runs. */
async function checkPodConfigs(start: PodStart): Promise<void> {
  const { paths } = start;
  await Promise.all([
    podman(envoyValidateArgs(start.envoyImage, paths.envoyConf, start.xdsDir, start.meshTlsDir)).catch((error: unknown) => {
      throw error instanceof EngineCommandError ? new EnvoyConfigError(paths.envoyConf, error.stderr) : error;
    }),
    start.nginxImage !== undefined &&
      podman(nginxTestArgs(start.nginxImage, paths.nginxConf)).catch((error: unknown) => {
        throw error instanceof EngineCommandError ? new NginxConfigError(paths.nginxConf, error.stderr) : error;
      }),
  ]);
}

/** A promise's outcome, so that it can wait while other steps may fail. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then((value) => ({ value }), (error: unknown) => ({ error }));
}

/** Makes the deployment's network unless it exists; whether it made it. */
async function ensureNetwork(network: string, specName: string): Promise<boolean> {
  if (await podmanSucceeds(networkExistsArgs(network))) return false;
  await podman(networkCreateArgs(network, specName));
  return true;
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
  await chown(paths.adminDir, IN_POD.uid, IN_POD.uid);
  await ensureDir(paths.tmpDir);
  await chmod(paths.tmpDir, 0o1777);
}
