import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageMissingError, KubeApplyError, KubeRolloutError, KubeVersionError, PodvoyError } from '../../errors.js';
import { httpGet } from '../envoy/http.js';
import { ensureSelfSignedCertificate } from '../tls.js';
import {
  MINIMUM_SERVER,
  isSupported,
  nodeAddress,
  nodeImages,
  parseServerVersion,
  serviceEndpoint,
  staleObjects,
  stuckReasons,
  type NodeJson,
  type PodJson,
  type ServerVersion,
  type ServiceJson,
} from './cluster-state.js';
import { kubectl, kubectlRaw } from './kubectl.js';
import {
  annotatePodsArgs,
  applyArgs,
  deleteNamespaceArgs,
  deleteObjectsArgs,
  getJsonArgs,
  listNamesArgs,
  listOwnedArgs,
  rolloutStatusArgs,
  secretExistsArgs,
  tlsSecretArgs,
  versionArgs,
  type KubeTarget,
} from './kubectl-args.js';

/** What to apply: rendered manifests and what to wait for, in the engine's own terms. */
export interface KubeApplyInput {
  readonly namespace: string;
  /** The Namespace object alone, applied first so the TLS Secret can go in before the pods. */
  readonly namespaceYaml: string;
  /** Every manifest (the Namespace too). */
  readonly yaml: string;
  /** Deployments to wait for, in order. */
  readonly deployments: readonly string[];
  /** Images the pods run; those of `localhost/` must already be on a node (no registry has them). */
  readonly images: readonly string[];
  /** The gateway's TLS Secret: its name and the user's pair, or none to generate one (kept once made). */
  readonly tls?: { readonly secret: string; readonly source?: { readonly cert: string; readonly key: string } };
  /**
   * The mesh identities' Secrets (leaf, key, trust bundle and SDS files of each), applied before
   * the Deployments that mount them. Goes to kubectl by stdin, never to a file or a message.
   */
  readonly secretsYaml?: string;
  /** Services reached from outside, and the path that must answer through them. */
  readonly exposed: readonly ExposedService[];
  /**
   * What Envoys apply in place (the mesh ConfigMaps, the identity Secrets): per workload, the
   * label selector of its pods and a hash of those files.
   */
  readonly meshConfigs: readonly { readonly selector: string; readonly hash: string }[];
  /**
   * The labels of every object this deployment applies: what carries them and was not applied
   * this time (a service taken out of the spec, a Service no longer published) is removed.
   */
  readonly ownedSelector: string;
}

/** The pod annotation that carries the mesh files' hash (see `nudgeKubelets`). */
export const MESH_HASH_ANNOTATION = 'podvoy.io/mesh-hash';

export interface ExposedService {
  /** The spec's service (or `gateway`). */
  readonly workload: string;
  /** The Kubernetes Service's name. */
  readonly service: string;
  readonly portName: string;
  readonly scheme: 'http' | 'https';
  readonly path: string;
}

export interface KubeApplyOptions {
  readonly target: KubeTarget;
  /** How long the rollout and the first answer may take. @default 180000 */
  readonly timeoutMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface KubeApplyResult {
  readonly namespace: string;
  readonly server: string;
  /** What kubectl applied: `kind/name`. */
  readonly applied: readonly string[];
  readonly urls: readonly { readonly workload: string; readonly url: string }[];
  /** What an earlier apply made and this one removed (`kind/name`), once the new rollout served. */
  readonly pruned: readonly string[];
  /** From the start until the last exposed service answered. */
  readonly elapsedMs: number;
}

/** Reads the server's version; an unreachable cluster or one older than 1.30 is an error. */
export async function checkServer(target: KubeTarget): Promise<ServerVersion> {
  const result = await kubectl(target, versionArgs());
  const version = parseServerVersion(result.stdout);
  if (!version) throw new PodvoyError(`kubectl version named no server version:\n    ${result.stdout.slice(0, 500)}`);
  if (!isSupported(version)) throw new KubeVersionError(version.gitVersion, `v${MINIMUM_SERVER.major}.${MINIMUM_SERVER.minor}`);
  return version;
}

/**
 * A kubelet lists its runtime's images in the node status only every 30 s or so: an image
 * imported a moment ago is looked for this long before it counts as missing.
 */
const NODE_IMAGES_GRACE_MS = 45_000;

/** Checks what must hold before anything is applied: a reachable, new enough server, and local images on a node. */
export async function preflight(input: Pick<KubeApplyInput, 'images'>, target: KubeTarget, graceMs = NODE_IMAGES_GRACE_MS): Promise<ServerVersion> {
  const version = await checkServer(target);
  const deadline = Date.now() + graceMs;
  for (;;) {
    const nodes = JSON.parse((await kubectl(target, getJsonArgs('nodes'))).stdout).items as NodeJson[];
    const present = nodeImages(nodes);
    const missing = input.images.find((image) => image.startsWith('localhost/') && !present.has(image));
    if (missing === undefined) return version;
    if (Date.now() > deadline) {
      throw new ImageMissingError(
        missing,
        'No node of the cluster has it, and no registry serves localhost/ images. Nothing was applied. ' +
          "Import it into each node's runtime (podman save IMAGE | ctr -n k8s.io images import -), or set kubernetes.registry " +
          'and run `podvoy images build <spec> --push`.',
      );
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Applies a deployment and waits as `play` does: every rollout complete, and each exposed
 * service answering from outside; returns the URLs. On a timeout it names the stuck pods'
 * reasons and what exists.
 */
export async function kubeApply(input: KubeApplyInput, options: KubeApplyOptions): Promise<KubeApplyResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = started + timeoutMs;
  const { target } = options;
  const say = options.onProgress ?? (() => {});
  const version = await preflight(input, target);
  say(`applying to ${version.gitVersion}, namespace ${input.namespace}`);
  await kubectl(target, applyArgs(), { input: input.namespaceYaml });
  const names = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
  let applied: string[];
  try {
    if (input.tls) await ensureTlsSecret(target, input.namespace, input.tls);
    // A renewed certificate is a Secret update: the kubelet swaps the files, Envoy reloads them.
    const secrets = input.secretsYaml ? names((await kubectl(target, applyArgs(), { input: input.secretsYaml })).stdout) : [];
    applied = [...secrets, ...names((await kubectl(target, applyArgs(), { input: input.yaml })).stdout)];
    await nudgeKubelets(target, input);
  } catch (error) {
    if (!(error instanceof PodvoyError)) throw error;
    throw new KubeApplyError(input.namespace, error, await existing(target, input.namespace));
  }

  for (const deployment of input.deployments) {
    say(`waiting for deployment/${deployment}`);
    const left = Math.max(1, (deadline - Date.now()) / 1000);
    const result = await kubectlRaw(target, rolloutStatusArgs(input.namespace, deployment, left), { timeoutMs: left * 1000 + 10_000 });
    if (result.exitCode !== 0) throw await rolloutFailure(target, input.namespace, deployment, Date.now() - started);
  }

  const urls: { workload: string; url: string }[] = [];
  for (const exposed of input.exposed) {
    const url = await waitForAnswer(target, input.namespace, exposed, deadline, say);
    urls.push({ workload: exposed.workload, url });
  }
  // Only now: until the new gateway serves, its old routes may still send to what goes away.
  const pruned = await pruneStale(target, input, applied, say);
  return { namespace: input.namespace, server: version.gitVersion, applied, urls, pruned, elapsedMs: Date.now() - started };
}

/** Deletes what carries this deployment's labels but was not applied this time. */
async function pruneStale(target: KubeTarget, input: KubeApplyInput, applied: readonly string[], say: (line: string) => void): Promise<string[]> {
  const owned = (await kubectl(target, listOwnedArgs(input.namespace, input.ownedSelector))).stdout.split('\n').filter(Boolean);
  const stale = staleObjects(owned, applied);
  if (stale.length === 0) return [];
  say(`removing what the spec no longer has: ${stale.join(', ')}`);
  await kubectl(target, deleteObjectsArgs(input.namespace, stale));
  return stale;
}

/**
 * A kubelet refreshes a mounted ConfigMap or Secret only when it syncs the pod: every syncFrequency (one
 * minute by default), or when the pod itself changes. Annotating the running pods with the mesh
 * files' hash is such a change, and restarts nothing: the new files reach every Envoy in about
 * a second instead of up to a minute, still without a control plane.
 */
async function nudgeKubelets(target: KubeTarget, input: KubeApplyInput): Promise<void> {
  for (const { selector, hash } of input.meshConfigs) {
    await kubectl(target, annotatePodsArgs(input.namespace, selector, MESH_HASH_ANNOTATION, hash));
  }
}

async function rolloutFailure(target: KubeTarget, namespace: string, deployment: string, waitedMs: number): Promise<KubeRolloutError> {
  const pods = await kubectlRaw(target, getJsonArgs('pods', namespace, `app.kubernetes.io/name=${deployment}`));
  const reasons = pods.exitCode === 0 ? stuckReasons((JSON.parse(pods.stdout) as { items: PodJson[] }).items) : [];
  return new KubeRolloutError(namespace, deployment, waitedMs, reasons, await existing(target, namespace));
}

/** What exists in a namespace, as `kind/name`. */
export async function existing(target: KubeTarget, namespace: string): Promise<string[]> {
  const result = await kubectlRaw(target, listNamesArgs(namespace));
  // Every namespace gets the cluster's CA bundle from the cluster itself: not podvoy's doing.
  return result.exitCode === 0 ? result.stdout.split('\n').filter((l) => l && l !== 'configmap/kube-root-ca.crt') : [];
}

/**
 * The user's pair is applied every time (so a renewed certificate reaches the cluster); a
 * generated one is made once and kept. The key goes from its file to the apiserver through
 * kubectl's stdin, and is never written anywhere else.
 */
async function ensureTlsSecret(target: KubeTarget, namespace: string, tls: NonNullable<KubeApplyInput['tls']>): Promise<void> {
  if (tls.source) {
    const secret = await kubectl(target, tlsSecretArgs(namespace, tls.secret, tls.source.cert, tls.source.key));
    await kubectl(target, applyArgs(), { input: secret.stdout });
    return;
  }
  if ((await kubectl(target, secretExistsArgs(namespace, tls.secret))).stdout.trim()) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-tls-'));
  try {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await ensureSelfSignedCertificate(cert, key);
    const secret = await kubectl(target, tlsSecretArgs(namespace, tls.secret, cert, key));
    await kubectl(target, applyArgs(), { input: secret.stdout });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Polls until the exposed service answers through its node port (or load balancer) with less than a 5xx. */
async function waitForAnswer(
  target: KubeTarget,
  namespace: string,
  exposed: ExposedService,
  deadline: number,
  say: (line: string) => void,
): Promise<string> {
  let last = 'no address yet';
  say(`waiting for ${exposed.service} to answer from outside the cluster`);
  for (;;) {
    const [service, nodes] = await Promise.all([
      kubectl(target, ['get', 'service', exposed.service, '--namespace', namespace, '--output', 'json']),
      kubectl(target, getJsonArgs('nodes')),
    ]);
    const endpoint = serviceEndpoint(JSON.parse(service.stdout) as ServiceJson, exposed.portName, nodeAddress((JSON.parse(nodes.stdout) as { items: NodeJson[] }).items));
    if (endpoint) {
      const base = `${exposed.scheme}://${endpoint.host}:${endpoint.port}`;
      try {
        const res = await httpGet(`${base}${exposed.path}`, { insecure: true, timeoutMs: 2000 });
        if (res.status < 500) return `${base}/`;
        last = `${base}${exposed.path} answered ${res.status}`;
      } catch (error) {
        last = `${base}${exposed.path}: ${(error as Error).message}`;
      }
    } else {
      last = `service ${exposed.service} has no external address yet`;
    }
    if (Date.now() > deadline) {
      throw new KubeRolloutError(namespace, exposed.service, 0, [`rolled out, but no answer from outside: ${last}`], await existing(target, namespace));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Removes a deployment: its namespace and everything in it. */
export async function kubeDelete(namespace: string, options: { target: KubeTarget; timeoutMs?: number }): Promise<{ deleted: boolean }> {
  await checkServer(options.target);
  const timeoutS = Math.ceil((options.timeoutMs ?? 180_000) / 1000);
  const result = await kubectl(options.target, deleteNamespaceArgs(namespace, timeoutS), { timeoutMs: timeoutS * 1000 + 10_000 });
  return { deleted: result.stdout.trim() !== '' };
}
