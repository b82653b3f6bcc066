/**
 * The library API of the Kubernetes target (re-exported by `index.ts`): the same spec and plan
 * as on podman, rendered as manifests and applied with kubectl.
 */
import path from 'node:path';
import { renderKubernetes, renderMeshTlsSecret, type KubeObject, type KubernetesManifests } from './render/kubernetes.js';
import { SDS_RENDERER } from './render/mesh-tls.js';
import { SDS_FILES, planMeshTls } from './mesh/identity.js';
import { defaultRoots, type StateRoots } from './mesh/layout.js';
import { ensureMeshCertificates, identityFiles, type RotationStep } from './engine/pki/index.js';
import { withLock } from './engine/rollout/lock.js';
import { compileTemplates } from './render/templates.js';
import { loadSpec } from './spec/load.js';
import type { Spec } from './spec/model.js';
import { writeFileAtomic } from './engine/files.js';
import { resolveImages } from './engine/podman/images.js';
import { buildSiteImages, siteImageRefs, type BuiltSiteImage } from './engine/podman/site-images.js';
import { kubeApply as applyToCluster, kubeDelete as deleteFromCluster, preflight, type KubeApplyInput, type KubeApplyResult } from './engine/kubernetes/apply.js';
import { runKubeDoctor } from './engine/kubernetes/doctor.js';
import { applyMeshTlsStep } from './engine/kubernetes/mesh-tls.js';
import type { KubeTarget } from './engine/kubernetes/kubectl-args.js';
import type { Check } from './engine/podman/doctor.js';
import { createHash } from 'node:crypto';
import { GATEWAY_TLS_SECRET, KUBE_LABELS, kubeNamespace, kubeObjectNames, kubeOwnedSelector, kubeSelector } from './mesh/kube-names.js';
import { GATEWAY } from './mesh/names.js';
import { stringify } from 'yaml';
import { readTemplateSources } from './pipeline.js';

export type { KubernetesManifests, KubeObject } from './render/kubernetes.js';
export type { BuiltSiteImage } from './engine/podman/site-images.js';
export type { KubeApplyResult } from './engine/kubernetes/apply.js';
export type { KubeTarget } from './engine/kubernetes/kubectl-args.js';

export interface KubeRenderOptions {
  /** Also write the manifests to `<outDir>/kubernetes.yaml`. */
  readonly outDir?: string;
  /** Overrides the spec's kubernetes.registry for site images. */
  readonly registry?: string;
}

/** The spec as loaded, with a registry given on the command line in place of the spec's. */
async function loadForCluster(file: string, registry: string | undefined): Promise<Spec> {
  const spec = await loadSpec(file);
  return registry === undefined ? spec : { ...spec, kubernetes: { ...spec.kubernetes, registry } };
}

/** Renders a spec's manifests; starts, pulls and builds nothing. */
export async function renderForKubernetes(file: string, options: KubeRenderOptions = {}): Promise<KubernetesManifests> {
  const spec = await loadForCluster(file, options.registry);
  const manifests = await manifestsOf(spec);
  if (options.outDir) await writeFileAtomic(path.join(options.outDir, 'kubernetes.yaml'), manifests.yaml);
  return manifests;
}

async function manifestsOf(spec: Spec): Promise<KubernetesManifests> {
  const sources = await readTemplateSources();
  const images = await resolveImages(spec.images, { pull: false });
  const sites = await siteImageRefs(spec, images.nginx);
  return renderKubernetes({ spec, images: { ...images, sites }, templates: compileTemplates(sources), sources });
}

/** Builds one image per static service (nginx plus its site, tagged by the site's hash); pushes it with `push`. */
export async function buildSiteImagesOf(
  file: string,
  options: { registry?: string; push?: boolean; onProgress?: (line: string) => void } = {},
): Promise<BuiltSiteImage[]> {
  const spec = await loadForCluster(file, options.registry);
  const images = await resolveImages(spec.images, { pull: true });
  return buildSiteImages(spec, images.nginx, options);
}

export interface KubeOptions extends KubeTarget {
  /** Where podvoy keeps the mesh's CA and certificates, as on podman. @default from PODVOY_STATE_DIR / PODVOY_RUN_DIR, else /var/lib/podvoy and /run/podvoy */
  readonly roots?: StateRoots;
  /** Overrides the spec's kubernetes.registry for site images. */
  readonly registry?: string;
  /** How long the rollout and the first answer through the gateway may take. @default 180000 */
  readonly timeoutMs?: number;
  readonly onProgress?: (line: string) => void;
}

/**
 * The mesh's identities as Secrets: made or renewed (past half their life) by the same pki as on
 * podman, under the same lock. The CA stays in podvoy's state directory; only each identity's
 * leaf, key and trust bundle go to the cluster. The kubelet hands updated Secrets to the running
 * Envoys; during a CA rotation each step is applied, and seen on every Envoy's /certs, before
 * the next (the new root trusted everywhere, then every leaf reissued, then the old root gone).
 */
async function meshTlsSecretsOf(spec: Spec, manifests: KubernetesManifests, options: KubeOptions): Promise<KubeObject[]> {
  const plan = planMeshTls(spec);
  if (!plan) return [];
  const roots = options.roots ?? defaultRoots();
  const secretsNow = async () => {
    const secrets: KubeObject[] = [];
    for (const secret of manifests.meshTlsSecrets) secrets.push(renderMeshTlsSecret(spec, secret, await identityFiles(spec.name, secret.workload, roots)));
    return secrets;
  };
  const publish = async (step: RotationStep) => {
    options.onProgress?.(step.kind === 'trust' ? 'CA rotation: every Envoy trusts the new root beside the old' : 'CA rotation: every Envoy runs a certificate of the new CA');
    const secrets = await secretsNow();
    const envoys = manifests.meshTlsSecrets.map((s) => ({
      selector: selectorOf(spec, s.workload),
      probePort: probePortOf(manifests, s.workload),
      caSerial: step.caSerial,
      leafSerial: step.leaves[s.workload]!,
    }));
    const yaml = secrets.map((o) => stringify(o)).join('---\n');
    await applyMeshTlsStep(targetOf(options), { namespace: manifests.namespace, secretsYaml: yaml, nudges: inPlaceFiles(spec, manifests, secrets), envoys }, options.timeoutMs ?? 180_000);
  };
  return withLock(roots, spec.name, async () => {
    await ensureMeshCertificates(plan, { roots, sds: SDS_RENDERER, envoys: 'none', publish, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    return secretsNow();
  });
}

function selectorOf(spec: Spec, workload: string): string {
  return Object.entries(kubeSelector(spec, workload)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The port of a workload's Envoy probe listener, as its Deployment names it. */
function probePortOf(manifests: KubernetesManifests, workload: string): number {
  const deployment = manifests.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === kubeObjectNames(workload).deployment)!;
  const pod = (deployment.spec as { template: { spec: { initContainers?: PodContainer[]; containers: PodContainer[] } } }).template.spec;
  const envoy = [...(pod.initContainers ?? []), ...pod.containers].find((c) => c.name === 'envoy')!;
  return envoy.ports.find((p) => p.name === 'probe')!.containerPort;
}

interface PodContainer {
  readonly name: string;
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
}

/** What the engine needs to apply and wait: taken from the spec and its manifests. */
function applyInput(spec: Spec, manifests: KubernetesManifests, meshTlsSecrets: readonly KubeObject[] = []): KubeApplyInput {
  const deployments = manifests.objects.filter((o) => o.kind === 'Deployment');
  const images = [
    ...new Set(
      deployments.flatMap((d) => {
        const pod = (d.spec as { template: { spec: { initContainers?: { image: string }[]; containers: { image: string }[] } } }).template.spec;
        return [...(pod.initContainers ?? []), ...pod.containers].map((c) => c.image);
      }),
    ),
  ];
  const gateway = spec.gateway;
  const exposed: KubeApplyInput['exposed'] = [
    ...spec.services
      .filter((s) => s.sidecar.publish)
      .map((s) => ({ workload: s.name, service: kubeObjectNames(s.name).exposed, portName: 'http', scheme: 'http' as const, path: s.health })),
    ...(gateway
      ? [{ workload: GATEWAY, service: kubeObjectNames(GATEWAY).exposed, portName: gateway.https ? 'https' : 'http', scheme: gateway.https ? ('https' as const) : ('http' as const), path: '/' }]
      : []),
  ];
  return {
    namespace: manifests.namespace,
    namespaceYaml: stringify(manifests.objects[0]),
    yaml: manifests.yaml,
    deployments: deployments.map((d) => d.metadata.name),
    images,
    ...(gateway?.https ? { tls: { secret: GATEWAY_TLS_SECRET, ...(gateway.tls ? { source: gateway.tls } : {}) } } : {}),
    exposed,
    ...(meshTlsSecrets.length ? { secretsYaml: meshTlsSecrets.map((o) => stringify(o)).join('---\n') } : {}),
    meshConfigs: inPlaceFiles(spec, manifests, meshTlsSecrets),
    ownedSelector: kubeOwnedSelector(spec),
  };
}

/**
 * Per workload, a hash of what its Envoy applies in place: the mesh ConfigMap's files and the
 * identity Secret's SDS files (which name each new certificate and bundle; never the key itself).
 */
function inPlaceFiles(spec: Spec, manifests: KubernetesManifests, meshTlsSecrets: readonly KubeObject[]): KubeApplyInput['meshConfigs'] {
  const byWorkload = new Map<string, unknown[]>();
  const add = (workload: string, data: unknown) => byWorkload.set(workload, [...(byWorkload.get(workload) ?? []), data]);
  for (const o of manifests.objects) {
    const workload = o.metadata.labels?.[KUBE_LABELS.name];
    if (o.kind === 'ConfigMap' && workload && o.metadata.name === kubeObjectNames(workload).mesh) add(workload, o.data);
  }
  for (const o of meshTlsSecrets) {
    const data = o.data as Record<string, string>;
    add(o.metadata.labels![KUBE_LABELS.name]!, [SDS_FILES.certificate, SDS_FILES.trust].map((f) => data[f]));
  }
  return [...byWorkload].map(([workload, data]) => ({
    selector: selectorOf(spec, workload),
    hash: createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16),
  }));
}

/**
 * Applies a spec to a cluster with kubectl and waits as `play` does: every rollout complete and
 * each exposed service answering from outside. Refuses an unreachable cluster, one older than
 * 1.30, and local images no node has, before applying anything.
 */
export async function kubeApply(file: string, options: KubeOptions = {}): Promise<KubeApplyResult> {
  const spec = await loadForCluster(file, options.registry);
  const manifests = await manifestsOf(spec);
  // No certificate is made for a cluster that would refuse the deployment anyway.
  if (manifests.meshTlsSecrets.length) await preflight(applyInput(spec, manifests), targetOf(options));
  const secrets = await meshTlsSecretsOf(spec, manifests, options);
  return applyToCluster(applyInput(spec, manifests, secrets), {
    target: targetOf(options),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** Removes everything `kube apply` made for a spec (takes the spec file, or a deployment name). */
export async function kubeDelete(fileOrName: string, options: KubeOptions = {}): Promise<{ namespace: string; deleted: boolean }> {
  const name = /^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(fileOrName) ? fileOrName : (await loadSpec(fileOrName)).name;
  const namespace = kubeNamespace({ name });
  const result = await deleteFromCluster(namespace, { target: targetOf(options), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
  return { namespace, ...result };
}

/** kubectl, the cluster and its version, and (with a spec) each image the spec runs. */
export async function kubeDoctor(file: string | undefined, options: KubeOptions = {}): Promise<Check[]> {
  let images: readonly string[] = [];
  if (file) {
    const spec = await loadForCluster(file, options.registry);
    images = applyInput(spec, await manifestsOf(spec)).images;
  }
  return runKubeDoctor(targetOf(options), images);
}

function targetOf(options: KubeTarget): KubeTarget {
  return { ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}), ...(options.context ? { context: options.context } : {}) };
}
