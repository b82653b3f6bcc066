/**
 * Pure readings of what kubectl reports (`version -o json`, `get pods|nodes|services -o json`):
 * the server's version, why a pod is stuck, where a Service answers. Tests feed them JSON.
 */

/**
 * Native sidecars are on by default from 1.29 (GA in 1.33), and the preStop sleep action that
 * lets a pod drain without a shell in its image from 1.30 (GA in 1.34).
 */
export const MINIMUM_SERVER = { major: 1, minor: 30 } as const;

export interface ServerVersion {
  readonly major: number;
  readonly minor: number;
  readonly gitVersion: string;
}

/** The server's version from `kubectl version -o json`; `minor` may read "29+" on some distributions. */
export function parseServerVersion(json: string): ServerVersion | undefined {
  const parsed = JSON.parse(json) as { serverVersion?: { major?: string; minor?: string; gitVersion?: string } };
  const v = parsed.serverVersion;
  if (!v) return undefined;
  const major = Number.parseInt(v.major ?? '', 10);
  const minor = Number.parseInt(v.minor ?? '', 10);
  const fromGit = /^v(\d+)\.(\d+)\./.exec(v.gitVersion ?? '');
  return {
    major: Number.isNaN(major) ? Number(fromGit?.[1] ?? 0) : major,
    minor: Number.isNaN(minor) ? Number(fromGit?.[2] ?? 0) : minor,
    gitVersion: v.gitVersion ?? `v${v.major}.${v.minor}`,
  };
}

export function isSupported(version: ServerVersion): boolean {
  return version.major > MINIMUM_SERVER.major || (version.major === MINIMUM_SERVER.major && version.minor >= MINIMUM_SERVER.minor);
}

interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { reason?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** Why each pod that is not ready is stuck, one line per pod: image pull, crash loop, probe, scheduling. */
export function stuckReasons(pods: readonly PodJson[]): string[] {
  const reasons: string[] = [];
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (ready) continue;
    const reason = podReason(pod);
    reasons.push(`pod ${pod.metadata.name}: ${reason}`);
  }
  return reasons;
}

function podReason(pod: PodJson): string {
  const status = pod.status ?? {};
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const c of containers) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && IMAGE_PULL.has(waiting.reason)) {
      return `image pull (${waiting.reason}): container ${c.name} cannot get ${c.image ?? 'its image'}${waiting.message ? `: ${waiting.message}` : ''}. Build and push it (podvoy images build <spec> --push), or import it into the nodes' runtime.`;
    }
  }
  for (const c of containers) {
    const waiting = c.state?.waiting;
    if (waiting?.reason === 'CrashLoopBackOff') {
      const last = c.lastState?.terminated;
      const exit = last ? `, last exit ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}` : '';
      return `crash loop: container ${c.name} restarted ${c.restartCount ?? 0} times${exit}. See kubectl logs --previous -c ${c.name}.`;
    }
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      return `${waiting.reason}: container ${c.name}${waiting.message ? `: ${waiting.message}` : ''}`;
    }
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return `not scheduled: ${scheduled.message ?? scheduled.reason ?? 'no node fits'}`;
  const unready = containers.filter((c) => c.state?.running && !c.ready);
  if (unready.length) {
    return `probe: ${unready.map((c) => `container ${c.name}`).join(' and ')} running but not ready (its readiness probe fails). See kubectl describe pod ${pod.metadata.name}.`;
  }
  const creating = containers.find((c) => c.state?.waiting);
  if (creating) return `still starting (${creating.state!.waiting!.reason ?? 'waiting'}: container ${creating.name})`;
  return `not ready (phase ${status.phase ?? 'unknown'})`;
}

export interface NodeJson {
  metadata: { name: string };
  status?: { addresses?: { type: string; address: string }[]; images?: { names?: string[] }[] };
}

/** The address a NodePort is reached on: the first node's InternalIP (else ExternalIP). */
export function nodeAddress(nodes: readonly NodeJson[]): string | undefined {
  for (const type of ['ExternalIP', 'InternalIP']) {
    for (const node of nodes) {
      const found = node.status?.addresses?.find((a) => a.type === type);
      if (found) return found.address;
    }
  }
  return undefined;
}

/** Images present on some node, as the runtime names them. */
export function nodeImages(nodes: readonly NodeJson[]): Set<string> {
  return new Set(nodes.flatMap((n) => (n.status?.images ?? []).flatMap((i) => i.names ?? [])));
}

export interface ServiceJson {
  metadata: { name: string };
  spec: { type?: string; ports?: { name?: string; port: number; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/**
 * Where a Service answers from outside: with NodePort, the node's address and the port's node
 * port; with LoadBalancer, its ingress address and the Service port (undefined until assigned).
 */
export function serviceEndpoint(service: ServiceJson, portName: string, node: string | undefined): { host: string; port: number } | undefined {
  const port = service.spec.ports?.find((p) => p.name === portName);
  if (!port) return undefined;
  if (service.spec.type === 'LoadBalancer') {
    const ingress = service.status?.loadBalancer?.ingress?.[0];
    const host = ingress?.ip ?? ingress?.hostname;
    return host ? { host, port: port.port } : undefined;
  }
  return node && port.nodePort ? { host: node, port: port.nodePort } : undefined;
}

/**
 * What exists but was not applied, both as kubectl names them (`kind.group/name`, the same in
 * `apply` and `get --output name`), in the order they exist.
 */
export function staleObjects(owned: readonly string[], applied: readonly string[]): string[] {
  const kept = new Set(applied);
  return owned.filter((name) => !kept.has(name));
}
