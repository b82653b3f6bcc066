/**
 * podvoy's library API: the CLI and the tests use only this. Each function runs the pipeline
 * spec -> model -> render -> engine for one verb.
 */
import path from 'node:path';
import { specStateDir, type StateRoots } from './mesh/layout.js';
import { planMeshTls } from './mesh/identity.js';
import { planGateway, planService } from './mesh/plan.js';
import { withPods, type Registry } from './mesh/registry.js';
import { renderGateway, renderPod } from './render/pod.js';
import { renderMeshFiles } from './render/xds.js';
import { SDS_RENDERER } from './render/mesh-tls.js';
import { renderCertsRenewUnits } from './render/systemd-certs.js';
import { TEMPLATE_NAMES, compileTemplates } from './render/templates.js';
import { loadSpec } from './spec/load.js';
import type { Spec } from './spec/model.js';
import { runDoctor, type Check } from './engine/doctor.js';
import { downSpec, type DownResult } from './engine/down.js';
import { PACKAGE_ROOT, readTextFiles, writeFileAtomic } from './engine/files.js';
import { buildImages as buildLocalImages, ensureImage, resolveImages, type BuiltImage } from './engine/images.js';
import { showLogs, type LogsOptions } from './engine/logs.js';
import { playPods, type PlannedPod, type PlayInput, type PlayResult } from './engine/play.js';
import { listPods, type DeployedPod } from './engine/pods.js';
import { readStatus, type DeploymentStatus } from './engine/status.js';
import { writeSystemdUnits, type SystemdUnits } from './engine/systemd.js';
import { hasMeshCertificates, listMeshCertificates, renewMeshCertificates, rotateMeshCa, type CertificatesResult } from './engine/pki/index.js';
import type { ReadinessOptions } from './engine/readiness.js';

export * from './errors.js';
export type { Spec, Service, StaticApp, ImageApp, Sidecar, Publish } from './spec/model.js';
export type { StateRoots } from './mesh/layout.js';
export type { PlayResult, ServiceOutcome } from './engine/play.js';
export type { DownResult } from './engine/down.js';
export type { DeployedPod } from './engine/pods.js';
export type { DeploymentStatus, EnvoyStatus } from './engine/status.js';
export type { ClusterStatus, HostStatus } from './engine/envoy-admin.js';
export type { Check } from './engine/doctor.js';
export type { SystemdUnits } from './engine/systemd.js';
export type { BuiltImage } from './engine/images.js';
export type { LogsOptions } from './engine/logs.js';
export type { CertificatesResult, CertificateInfo } from './engine/pki/index.js';
export { loadSpec };

export interface CommonOptions {
  /** Where podvoy keeps rendered files and sockets. @default from PODVOY_STATE_DIR / PODVOY_RUN_DIR, else /var/lib/podvoy and /run/podvoy */
  readonly roots?: StateRoots;
  /** Called with one line per long step (image builds, waiting for readiness). */
  readonly onProgress?: (line: string) => void;
}

export function defaultRoots(env: NodeJS.ProcessEnv = process.env): StateRoots {
  return {
    stateDir: env.PODVOY_STATE_DIR || '/var/lib/podvoy',
    runDir: env.PODVOY_RUN_DIR || '/run/podvoy',
  };
}

/** Resolves images and renders every pod of a spec, and how to render its mesh directory. */
async function planSpec(spec: Spec, roots: StateRoots, pull: boolean): Promise<PlayInput> {
  const sources = await readTextFiles(path.join(PACKAGE_ROOT, 'templates'), TEMPLATE_NAMES, '.hbs');
  const templates = compileTemplates(sources);
  const images = await resolveImages(spec.images, { pull });
  const services: PlannedPod[] = [];
  for (const service of spec.services) {
    if (pull && service.app.kind === 'image') {
      await ensureImage(service.app.image, `Fix services.${service.name}.image in the spec, or build that image locally.`);
    }
    for (const plan of planService(spec, service, images, roots, sources)) services.push({ plan, rendered: renderPod(templates, plan) });
  }
  const gatewayPlan = planGateway(spec, images.envoy, roots, sources);
  const hasMesh = gatewayPlan !== undefined || spec.services.some((s) => s.upstreams.length > 0);
  return {
    specName: spec.name,
    services,
    ...(gatewayPlan ? { gateway: { plan: gatewayPlan, rendered: renderGateway(templates, gatewayPlan) } } : {}),
    ...(hasMesh ? { renderMesh: (registry: Registry) => renderMeshFiles(spec, registry, roots) } : {}),
    ...(spec.mtls ? { meshTls: { plan: planMeshTls(spec)!, sds: SDS_RENDERER } } : {}),
  };
}

/** Plays a spec file: returns once every service serves through its sidecar. */
export async function play(file: string, options: CommonOptions & ReadinessOptions = {}): Promise<PlayResult> {
  const spec = await loadSpec(file);
  const roots = options.roots ?? defaultRoots();
  const mesh = spec.gateway !== undefined || spec.services.some((s) => s.upstreams.length > 0);
  if (mesh && !spec.mtls) options.onProgress?.('mTLS is off (mtls: false): the mesh\'s Envoys talk plain HTTP to each other');
  const result = await playPods(await planSpec(spec, roots, true), { ...options, roots });
  return mesh ? { ...result, mtls: spec.mtls ? 'on' : 'off' } : result;
}

/**
 * Removes all that playing a spec created (takes the spec file, or a deployment name), or with
 * `service`, deregisters and removes one service while the rest of the mesh keeps serving.
 */
export async function down(fileOrName: string, options: CommonOptions & { service?: string } = {}): Promise<DownResult> {
  const roots = options.roots ?? defaultRoots();
  if (options.service === undefined) return downSpec(await specNameOf(fileOrName), roots);
  const spec = await loadSpec(fileOrName);
  const input = await planSpec(spec, roots, false);
  return downSpec(spec.name, roots, { service: options.service, ...(input.renderMesh ? { renderMesh: input.renderMesh } : {}) });
}

/** What every Envoy of a deployment reports: endpoints, their health, traffic, mesh file versions. */
export async function status(fileOrName: string, options: CommonOptions = {}): Promise<DeploymentStatus> {
  return readStatus(await specNameOf(fileOrName), options.roots ?? defaultRoots());
}

/** The mesh's certificates: each identity, its SPIFFE ID, its expiry and the Envoys serving it. */
export async function certificates(fileOrName: string, options: CommonOptions = {}): Promise<CertificatesResult> {
  return listMeshCertificates(await specNameOf(fileOrName), { roots: options.roots ?? defaultRoots() });
}

/**
 * Renews the mesh's certificates past half their life (all of them with `force`), in place:
 * each Envoy picks up its new certificate from its watched directory, without a restart.
 */
export async function renewCertificates(fileOrName: string, options: CommonOptions & ReadinessOptions & { force?: boolean } = {}): Promise<CertificatesResult> {
  return renewMeshCertificates(await specNameOf(fileOrName), {
    roots: options.roots ?? defaultRoots(),
    sds: SDS_RENDERER,
    ...(options.force ? { force: true } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** Replaces the CA podvoy made: the new root is trusted beside the old until every certificate is reissued. */
export async function rotateCa(fileOrName: string, options: CommonOptions & ReadinessOptions = {}): Promise<CertificatesResult> {
  return rotateMeshCa(await specNameOf(fileOrName), {
    roots: options.roots ?? defaultRoots(),
    sds: SDS_RENDERER,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** The pods podvoy runs. */
export async function ps(): Promise<DeployedPod[]> {
  return listPods();
}

export async function logs(fileOrName: string, options: LogsOptions = {}): Promise<void> {
  return showLogs(await specNameOf(fileOrName), options);
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
  const spec = await loadSpec(file);
  const roots = options.roots ?? defaultRoots();
  const input = await planSpec(spec, roots, false);
  const pods = [...input.services, ...(input.gateway ? [input.gateway] : [])];
  // The mesh files as they will be once every planned pod is registered.
  const registry = withPods({}, input.services.map((s) => ({ service: s.plan.service.name, pod: s.plan.pod })));
  const files = [
    ...pods.flatMap(({ plan, rendered }) => [
      { path: `${plan.pod}/pod.yaml`, content: rendered.podYaml },
      ...(rendered.nginxConf === undefined ? [] : [{ path: `${plan.pod}/nginx.conf`, content: rendered.nginxConf }]),
      { path: `${plan.pod}/envoy.yaml`, content: rendered.envoyYaml },
    ]),
    ...(input.renderMesh?.(registry) ?? []).map((f) => ({
      path: path.relative(specStateDir(roots, spec.name), f.path),
      content: f.text,
    })),
  ];
  if (options.outDir) {
    for (const f of files) await writeFileAtomic(path.join(options.outDir, f.path), f.content);
  }
  return files;
}

/** Writes systemd units (podman's generator) and a tmpfiles.d snippet that start a deployment at boot. */
export async function systemdUnits(fileOrName: string, options: CommonOptions & { outDir: string }): Promise<SystemdUnits> {
  const specName = await specNameOf(fileOrName);
  const roots = options.roots ?? defaultRoots();
  // With mTLS, a timer renews the certificates between plays.
  const renewal = (await hasMeshCertificates(specName, roots))
    ? renderCertsRenewUnits({
        specName,
        podvoy: [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'podvoy.js')],
        env: { PODVOY_STATE_DIR: roots.stateDir, PODVOY_RUN_DIR: roots.runDir },
      })
    : undefined;
  return writeSystemdUnits(specName, roots, options.outDir, renewal && { files: [renewal.service, renewal.timer], timer: renewal.timer.name });
}

export async function buildImages(options: CommonOptions = {}): Promise<BuiltImage[]> {
  return buildLocalImages(options.onProgress);
}

export async function doctor(options: CommonOptions = {}): Promise<Check[]> {
  return runDoctor(options.roots ?? defaultRoots());
}

/** A spec file names its deployment; so may the user, once the file is gone. */
async function specNameOf(fileOrName: string): Promise<string> {
  if (/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(fileOrName) && !fileOrName.includes('.')) {
    const asFile = await loadSpec(fileOrName).catch(() => undefined);
    return asFile?.name ?? fileOrName;
  }
  return (await loadSpec(fileOrName)).name;
}
