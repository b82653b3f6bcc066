/**
 * podvoy's library API: the CLI and the tests use only this. Each function runs the pipeline
 * spec -> model -> render -> engine for one verb, and loads the modules it needs when called,
 * so that a quick verb (`podvoy ps`) does not pay for the renderer, YAML or HTTP clients.
 */
import { defaultRoots, type StateRoots } from './mesh/layout.js';
import type { Spec } from './spec/model.js';
import type { Check } from './engine/podman/doctor.js';
import type { BuiltImage } from './engine/podman/images.js';
import type { LogsOptions } from './engine/podman/logs.js';
import type { RequestHop } from './engine/podman/request-logs.js';
import type { DeployedPod } from './engine/podman/pods.js';
import type { DeploymentStatus } from './engine/envoy/status.js';
import type { TopOptions, TopReport, WatchTopOptions } from './engine/envoy/top.js';
import type { SystemdUnits } from './engine/podman/systemd.js';
import type { ReadinessOptions } from './engine/envoy/readiness.js';
import type { RolloutDiff } from './engine/rollout/describe.js';
import type { DownResult } from './engine/rollout/down.js';
import type { PlayResult } from './engine/rollout/execute.js';
import type { CertificatesResult } from './engine/pki/index.js';
import type { AcmeStatus } from './engine/acme/index.js';

export * from './errors.js';
export type { Spec, Service, StaticApp, ImageApp, Sidecar, Publish } from './spec/model.js';
export type { StateRoots } from './mesh/layout.js';
export type { PlayResult, ServiceOutcome } from './engine/rollout/execute.js';
export type { DownResult } from './engine/rollout/down.js';
export type { RolloutDiff } from './engine/rollout/describe.js';
export type { CertificatesResult, CertificateInfo } from './engine/pki/index.js';
export type { AcmeStatus } from './engine/acme/index.js';
export type { DeployedPod } from './engine/podman/pods.js';
export type { DeploymentStatus, EnvoyStatus } from './engine/envoy/status.js';
export type { ClusterStatus, HostStatus } from './engine/envoy/admin.js';
export type { TopReport, TopRow, TopOptions, View } from './engine/envoy/top.js';
export type { Signals } from './engine/envoy/signals.js';
export type { Check } from './engine/podman/doctor.js';
export type { SystemdUnits } from './engine/podman/systemd.js';
export type { BuiltImage } from './engine/podman/images.js';
export type { LogsOptions } from './engine/podman/logs.js';
export type { RequestHop, AccessLogLine } from './engine/podman/request-logs.js';

export interface CommonOptions {
  /** Where podvoy keeps rendered files and sockets. @default from PODVOY_STATE_DIR / PODVOY_RUN_DIR, else /var/lib/podvoy and /run/podvoy */
  readonly roots?: StateRoots;
  /** Called with one line per long step (image builds, waiting for readiness). */
  readonly onProgress?: (line: string) => void;
}

export { defaultRoots };

const pipeline = () => import('./pipeline.js');

/** Reads and validates a spec file into its model; throws `SpecError` with every problem. */
export async function loadSpec(file: string): Promise<Spec> {
  return (await import('./spec/load.js')).loadSpec(file);
}

export interface PlayOptions extends CommonOptions, ReadinessOptions {
  /** How many pods start at once. @default the number of cores */
  readonly concurrency?: number;
  /**
   * With `gateway.tls.acme`: `force` orders a certificate now, whatever the renewal schedule;
   * `trust` (PEM) is trusted for the ACME server's HTTPS beside the system's CAs (a private ACME server).
   */
  readonly acme?: { readonly force?: boolean; readonly trust?: string };
}

/** Plays a spec file: returns once every service serves through its sidecar. */
export async function play(file: string, options: PlayOptions = {}): Promise<PlayResult> {
  const roots = options.roots ?? defaultRoots();
  const [{ loadSpecFor, planSpec }, { playDeployment }] = await Promise.all([pipeline(), import('./engine/rollout/play.js')]);
  const spec = await loadSpecFor(file, roots);
  const mesh = spec.gateway !== undefined || spec.services.some((s) => s.upstreams.length > 0);
  if (mesh && !spec.mtls) options.onProgress?.("mTLS is off (mtls: false): the mesh's Envoys talk plain HTTP to each other");
  const result = await playDeployment({ specName: spec.name, roots }, () => planSpec(spec, roots, true), options);
  return mesh ? { ...result, mtls: spec.mtls ? 'on' : 'off' } : result;
}

/**
 * What `play` would do now, computed by the same planner play walks: pods to start, replace
 * and retire, each mesh file as a unified diff, the Envoys that start or stop. Starts nothing.
 */
export async function diff(file: string, options: CommonOptions = {}): Promise<RolloutDiff> {
  const roots = options.roots ?? defaultRoots();
  const [{ loadDeployment }, { planPlay }, { describeRollout }] = await Promise.all([
    pipeline(),
    import('./engine/rollout/play.js'),
    import('./engine/rollout/describe.js'),
  ]);
  return describeRollout(await planPlay(await loadDeployment(file, roots, false)), roots);
}

/**
 * Removes all that playing a spec created (takes the spec file, or a deployment name), or with
 * `service`, deregisters and removes one service while the rest of the mesh keeps serving.
 */
export async function down(fileOrName: string, options: CommonOptions & { service?: string } = {}): Promise<DownResult> {
  const roots = options.roots ?? defaultRoots();
  const [{ loadDeployment, specNameOf }, { downDeployment, downService }] = await Promise.all([pipeline(), import('./engine/rollout/down.js')]);
  if (options.service === undefined) return downDeployment(await specNameOf(fileOrName), roots);
  return downService(await loadDeployment(fileOrName, roots, false), options.service);
}

/** What every Envoy of a deployment reports: endpoints, their health, traffic, mesh file versions. */
export async function status(fileOrName: string, options: CommonOptions = {}): Promise<DeploymentStatus> {
  const [{ specNameOf }, { readStatus }] = await Promise.all([pipeline(), import('./engine/envoy/status.js')]);
  return readStatus(await specNameOf(fileOrName), options.roots ?? defaultRoots());
}

/**
 * The golden signals of every service over a window (success rate, req/s, latency percentiles,
 * open connections), as the gateway, each calling sidecar and the service's own sidecars see
 * them: two samples of every Envoy's counters and histograms, `windowMs` apart.
 */
export async function top(fileOrName: string, options: CommonOptions & TopOptions): Promise<TopReport> {
  const [{ specNameOf }, { readTop }] = await Promise.all([pipeline(), import('./engine/envoy/top.js')]);
  return readTop(await specNameOf(fileOrName), options.roots ?? defaultRoots(), options);
}

/**
 * Samples every Envoy of a deployment every `refreshMs` and calls `onReport` with the signals
 * over the last `windowMs` (over the time elapsed, until a window has passed), until `signal`
 * aborts: what `podvoy top` redraws on a terminal.
 */
export async function watchTop(
  fileOrName: string,
  options: CommonOptions & WatchTopOptions,
): Promise<void> {
  const [{ specNameOf }, { watchDeploymentTop }] = await Promise.all([pipeline(), import('./engine/envoy/top.js')]);
  return watchDeploymentTop(await specNameOf(fileOrName), options.roots ?? defaultRoots(), options);
}

export type { MeshGraph, GraphNode, GraphEdge, GraphPod, EdgeTraffic } from './render/graph.js';

export interface GraphOptions extends CommonOptions {
  /** @default 'svg' */
  readonly format?: 'svg' | 'dot' | 'mermaid';
  /** The window of the live figures; 0 draws the spec alone, without asking any Envoy. @default 10000 */
  readonly windowMs?: number;
  /** Also write the picture to this file (atomically). */
  readonly outFile?: string;
}

/**
 * The picture of a spec's mesh: the gateway, services and pods, an edge per route and upstream
 * the spec declares, labelled with the req/s and success rate the callers see when the
 * deployment runs, unhealthy pods marked. SVG is laid out by Graphviz (WebAssembly).
 */
export async function graph(file: string, options: GraphOptions = {}): Promise<string> {
  const [spec, { meshGraph, renderDot, renderMermaid }] = await Promise.all([loadSpec(file), import('./render/graph.js')]);
  const windowMs = options.windowMs ?? 10_000;
  const running = windowMs > 0 && (await ps().catch(() => [])).some((p) => p.spec === spec.name);
  const live = running
    ? await (await import('./engine/envoy/graph-live.js')).readLiveMesh(spec.name, options.roots ?? defaultRoots(), windowMs)
    : undefined;
  const model = meshGraph(spec, live);
  const format = options.format ?? 'svg';
  const text =
    format === 'mermaid' ? renderMermaid(model) : format === 'dot' ? renderDot(model) : await (await import('./render/graph-svg.js')).renderSvg(renderDot(model));
  if (options.outFile) await (await import('./engine/files.js')).writeFileAtomic(options.outFile, text);
  return text;
}

/** The pods podvoy runs. */
export async function ps(): Promise<DeployedPod[]> {
  return (await import('./engine/podman/pods.js')).listPods();
}

export async function logs(fileOrName: string, options: LogsOptions = {}): Promise<void> {
  const [{ specNameOf }, { showLogs }] = await Promise.all([pipeline(), import('./engine/podman/logs.js')]);
  return showLogs(await specNameOf(fileOrName), options);
}

/**
 * Every access log line of one request, found by its x-request-id (made by the gateway, kept by
 * the sidecars and passed to the apps), from every container of a deployment, in the order the
 * request reached them. Needs `accessLog: json`.
 */
export async function requestLogs(fileOrName: string, requestId: string): Promise<RequestHop[]> {
  const [{ specNameOf }, { followRequest }] = await Promise.all([pipeline(), import('./engine/podman/request-logs.js')]);
  return followRequest(await specNameOf(fileOrName), requestId);
}

export interface RenderedFile {
  /** Path relative to the output directory: `<pod>/<file>`. */
  readonly path: string;
  readonly content: string;
}

/**
 * Renders what `play` would run, starting nothing and pulling nothing; with `outDir`, also
 * writes the files there.
 */
export async function render(file: string, options: CommonOptions & { outDir?: string } = {}): Promise<RenderedFile[]> {
  const roots = options.roots ?? defaultRoots();
  const [{ loadDeployment }, { specStateDir }, { writeFileAtomic }, { renderScrapeConfig }, path] = await Promise.all([
    pipeline(),
    import('./mesh/layout.js'),
    import('./engine/files.js'),
    import('./render/prometheus.js'),
    import('node:path'),
  ]);
  const deployment = await loadDeployment(file, roots, false);
  const pods = [...deployment.pods, ...(deployment.gateway ? [deployment.gateway] : [])];
  const files = [
    ...pods.flatMap(({ plan, rendered }) => [
      { path: `${plan.pod}/pod.yaml`, content: rendered.podYaml },
      ...(rendered.nginxConf === undefined ? [] : [{ path: `${plan.pod}/nginx.conf`, content: rendered.nginxConf }]),
      { path: `${plan.pod}/envoy.yaml`, content: rendered.envoyYaml },
    ]),
    // The mesh files as they will be once every planned pod is registered.
    ...deployment.meshFiles(deployment.registry).map((f) => ({
      path: path.relative(specStateDir(roots, deployment.spec.name), f.path),
      content: f.text,
    })),
    {
      path: 'prometheus.yml',
      content: renderScrapeConfig(deployment.spec, pods.map(({ plan }) => ({ pod: plan.pod, service: 'service' in plan ? plan.service.name : 'gateway' }))),
    },
  ];
  if (options.outDir) {
    for (const f of files) await writeFileAtomic(path.join(options.outDir, f.path), f.content);
  }
  return files;
}

/** Writes systemd units (podman's generator) and a tmpfiles.d snippet that start a deployment at boot. */
export async function systemdUnits(fileOrName: string, options: CommonOptions & { outDir: string }): Promise<SystemdUnits> {
  const [{ specOrNameOf }, { writeSystemdUnits }, { hasMeshCertificates }, { renderCertsRenewUnits }, { PACKAGE_ROOT }, path] = await Promise.all([
    pipeline(),
    import('./engine/podman/systemd.js'),
    import('./engine/pki/index.js'),
    import('./render/systemd-certs.js'),
    import('./engine/files.js'),
    import('node:path'),
  ]);
  const { name: specName, spec, file } = await specOrNameOf(fileOrName);
  const roots = options.roots ?? defaultRoots();
  // With mTLS, or a gateway certificate from ACME (given the spec file), a timer renews the certificates between plays.
  const acmeFile = spec?.gateway?.acme ? file : undefined;
  const renewal = (await hasMeshCertificates(specName, roots)) || acmeFile
    ? renderCertsRenewUnits({
        specName,
        ...(acmeFile ? { specFile: acmeFile } : {}),
        podvoy: [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'podvoy.js')],
        env: { PODVOY_STATE_DIR: roots.stateDir, PODVOY_RUN_DIR: roots.runDir },
      })
    : undefined;
  return writeSystemdUnits(specName, roots, options.outDir, renewal && { files: [renewal.service, renewal.timer], timer: renewal.timer.name });
}

/** The mesh's certificates: each identity, its SPIFFE ID, its expiry and the Envoys serving it. */
export async function certificates(fileOrName: string, options: CommonOptions = {}): Promise<CertificatesResult> {
  const [{ specNameOf }, { listMeshCertificates }] = await Promise.all([pipeline(), import('./engine/pki/index.js')]);
  return listMeshCertificates(await specNameOf(fileOrName), { roots: options.roots ?? defaultRoots() });
}

/**
 * Renews the mesh's certificates past half their life (all of them with `force`), in place:
 * each Envoy picks up its new certificate from its watched directory, without a restart.
 */
export async function renewCertificates(fileOrName: string, options: CommonOptions & ReadinessOptions & { force?: boolean } = {}): Promise<CertificatesResult> {
  const [{ specNameOf }, { renewMeshCertificates }, { SDS_RENDERER }] = await Promise.all([
    pipeline(),
    import('./engine/pki/index.js'),
    import('./render/mesh-tls.js'),
  ]);
  return renewMeshCertificates(await specNameOf(fileOrName), {
    roots: options.roots ?? defaultRoots(),
    sds: SDS_RENDERER,
    ...(options.force ? { force: true } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * The gateway's ACME certificate (`gateway.tls.acme`): issuer, expiry, when it is renewed and the
 * last attempt; undefined when podvoy never asked an ACME server for this deployment.
 */
export async function gatewayCertificate(fileOrName: string, options: CommonOptions = {}): Promise<AcmeStatus | undefined> {
  const [{ specNameOf }, { readAcmeStatus }] = await Promise.all([pipeline(), import('./engine/acme/index.js')]);
  return readAcmeStatus(await specNameOf(fileOrName), options.roots ?? defaultRoots());
}

/**
 * Renews the gateway's ACME certificate when due (now with `force`), the running gateway
 * answering the challenges; undefined when the spec has no `gateway.tls.acme`, or `file` is a
 * deployment's name: the certificate's names and server are the spec file's.
 */
export async function renewGatewayCertificate(
  file: string,
  options: CommonOptions & ReadinessOptions & { readonly force?: boolean; readonly trust?: string } = {},
): Promise<AcmeStatus | undefined> {
  const roots = options.roots ?? defaultRoots();
  const [{ loadDeployment }, { renewGatewayCertificate: renew }, { stat }] = await Promise.all([
    pipeline(),
    import('./engine/acme/renew.js'),
    import('node:fs/promises'),
  ]);
  // A deployment's name (as the mTLS renewal timer gives) says nothing of its domains.
  if (!(await stat(file).then((s) => s.isFile(), () => false))) return undefined;
  const deployment = await loadDeployment(file, roots, false);
  if (!deployment.acme) return undefined;
  return renew(deployment, {
    roots,
    ...(options.force ? { force: true } : {}),
    ...(options.trust ? { trust: options.trust } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** Replaces the CA podvoy made: the new root is trusted beside the old until every certificate is reissued. */
export async function rotateCa(fileOrName: string, options: CommonOptions & ReadinessOptions = {}): Promise<CertificatesResult> {
  const [{ specNameOf }, { rotateMeshCa }, { SDS_RENDERER }] = await Promise.all([
    pipeline(),
    import('./engine/pki/index.js'),
    import('./render/mesh-tls.js'),
  ]);
  return rotateMeshCa(await specNameOf(fileOrName), {
    roots: options.roots ?? defaultRoots(),
    sds: SDS_RENDERER,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

export async function buildImages(options: CommonOptions = {}): Promise<BuiltImage[]> {
  return (await import('./engine/podman/images.js')).buildImages(options.onProgress);
}

export async function doctor(options: CommonOptions = {}): Promise<Check[]> {
  return (await import('./engine/podman/doctor.js')).runDoctor(options.roots ?? defaultRoots());
}

/* The Kubernetes target (src/kube.ts), loaded when one of its verbs is called. */
export type { KubernetesManifests, KubeObject, BuiltSiteImage, KubeApplyResult, KubeTarget, KubeOptions, KubeRenderOptions } from './kube.js';
const kube = () => import('./kube.js');
type Kube = typeof import('./kube.js');

/** Renders a spec's Kubernetes manifests; starts, pulls and builds nothing. */
export async function renderForKubernetes(...args: Parameters<Kube['renderForKubernetes']>): ReturnType<Kube['renderForKubernetes']> {
  return (await kube()).renderForKubernetes(...args);
}

/** Builds one image per static service (nginx plus its site, tagged by the site's hash); pushes it with `push`. */
export async function buildSiteImagesOf(...args: Parameters<Kube['buildSiteImagesOf']>): ReturnType<Kube['buildSiteImagesOf']> {
  return (await kube()).buildSiteImagesOf(...args);
}

/** Applies a spec to a cluster with kubectl; returns once it serves through the gateway, with its URLs. */
export async function kubeApply(...args: Parameters<Kube['kubeApply']>): ReturnType<Kube['kubeApply']> {
  return (await kube()).kubeApply(...args);
}

/** Removes everything `kubeApply` made for a spec: its namespace. */
export async function kubeDelete(...args: Parameters<Kube['kubeDelete']>): ReturnType<Kube['kubeDelete']> {
  return (await kube()).kubeDelete(...args);
}

/** kubectl, the cluster and its version, and (with a spec) each image the spec runs. */
export async function kubeDoctor(...args: Parameters<Kube['kubeDoctor']>): ReturnType<Kube['kubeDoctor']> {
  return (await kube()).kubeDoctor(...args);
}
