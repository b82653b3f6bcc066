import { createHash } from 'node:crypto';
import type { Acme, Service, Spec } from '../spec/model.js';
import type { MeshFile, Registry } from './registry.js';
import { identityDir, podMeshTls, type MeshTlsPlan, type PodMeshTls, type SdsFile, type SdsRenderer } from './identity.js';
import { podPaths, tlsDir, xdsDir, type PodPaths, type StateRoots } from './layout.js';
import { GATEWAY, LABELS, gatewayPodName, podName, serviceUrl } from './names.js';

/** The images one pod runs, resolved to references podman can use. */
export interface PodImages {
  readonly nginx: string;
  readonly envoy: string;
}

/** Everything needed to render and run one service's pod: a pure function of its inputs. */
export interface PodPlan {
  readonly spec: Spec;
  readonly service: Service;
  /** Short hash of every input that shapes the pod; equal revisions mean nothing to change. */
  readonly revision: string;
  readonly pod: string;
  readonly images: PodImages & { readonly app?: string };
  readonly paths: PodPaths;
  readonly labels: Readonly<Record<string, string>>;
  readonly url?: string;
  /** The service's mesh directory, when its sidecar calls upstreams. */
  readonly xdsDir?: string;
  /** With mTLS: the service's identity directory, which its sidecar mounts, and how podvoy checks the sidecar. */
  readonly meshTls?: PodMeshTls;
}

function revisionOf(inputs: object): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 8);
}

/**
 * The pods of a service, one per replica. `templates` is a digest of the templates they are
 * rendered from, so that a changed template replaces them.
 */
export function planService(spec: Spec, service: Service, images: PodImages, roots: StateRoots, templates: string): PodPlan[] {
  return Array.from({ length: service.replicas }, (_, replica) => planPod(spec, service, images, roots, templates, replica));
}

/**
 * One pod of a service. The replica count is left out of the revision, so that scaling adds or
 * removes pods without replacing the others.
 */
export function planPod(
  spec: Spec,
  service: Service,
  images: PodImages,
  roots: StateRoots,
  templates: string,
  replica = 0,
): PodPlan {
  const podImages = service.app.kind === 'image' ? { ...images, app: service.app.image } : images;
  const { replicas, ...shape } = service;
  const revision = revisionOf({
    spec: spec.name,
    service: shape,
    images: podImages,
    roots,
    templates,
    ...(spec.mtls ? { mtls: true } : {}),
    // The access log format is in the pod's nginx and Envoy configs: a change replaces the pod.
    ...(spec.accessLog ? { accessLog: spec.accessLog } : {}),
  });
  const pod = podName(spec, service, revision, replicas > 1 ? replica + 1 : undefined);
  const url = serviceUrl(service);
  const labels: Record<string, string> = {
    [LABELS.spec]: spec.name,
    [LABELS.service]: service.name,
    [LABELS.revision]: revision,
  };
  if (url) labels[LABELS.url] = url;
  return {
    spec,
    service,
    revision,
    pod,
    images: podImages,
    paths: podPaths(roots, spec.name, pod),
    labels,
    url,
    ...(service.upstreams.length ? { xdsDir: xdsDir(roots, spec.name, service.name) } : {}),
    ...(spec.mtls ? { meshTls: podMeshTls(spec, service.name, roots)! } : {}),
  };
}

/** The gateway's pod: what shapes it is its host ports, TLS files and image, never its routes. */
export interface GatewayPlan {
  readonly spec: Spec;
  readonly revision: string;
  readonly pod: string;
  readonly image: string;
  readonly paths: PodPaths;
  readonly xdsDir: string;
  /** With mTLS: the host directory of the gateway's identity. */
  readonly meshTlsDir?: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * When HTTPS is on: the host files mounted as certificate and key, and the user's files they
   * are copied from (none: podvoy generates a self-signed pair).
   */
  readonly tls?: {
    readonly cert: string;
    readonly key: string;
    readonly source?: { readonly cert: string; readonly key: string };
    /** With ACME: the TLS directory is mounted whole, and its SDS file names the pair Envoy serves. */
    readonly acme?: { readonly dir: string };
  };
  /** The URL printed for the mesh: HTTPS when on, else HTTP. */
  readonly url: string;
}

export function planGateway(spec: Spec, envoyImage: string, roots: StateRoots, templates: string): GatewayPlan | undefined {
  const gateway = spec.gateway;
  if (!gateway) return undefined;
  const dir = tlsDir(roots, spec.name);
  const tls = gateway.https
    ? { cert: `${dir}/cert.pem`, key: `${dir}/key.pem`, ...(gateway.tls ? { source: gateway.tls } : {}), ...(gateway.acme ? { acme: { dir } } : {}) }
    : undefined;
  const revision = revisionOf({
    spec: spec.name,
    http: gateway.http,
    https: gateway.https ?? null,
    tls: tls ?? null,
    image: envoyImage,
    roots,
    templates,
    ...(spec.mtls ? { mtls: true } : {}),
    // A host port of the pod: publishing the metrics elsewhere replaces the gateway.
    ...(gateway.metrics ? { metrics: gateway.metrics } : {}),
  });
  const pod = gatewayPodName(spec, revision);
  const url = serviceUrl({ sidecar: { port: 0, publish: gateway.https ?? gateway.http } })!;
  const httpsUrl = gateway.https ? url.replace(/^http:/, 'https:') : url;
  return {
    spec,
    revision,
    pod,
    image: envoyImage,
    paths: podPaths(roots, spec.name, pod),
    xdsDir: xdsDir(roots, spec.name, GATEWAY),
    ...(spec.mtls ? { meshTlsDir: identityDir(roots, spec.name, GATEWAY) } : {}),
    labels: { [LABELS.spec]: spec.name, [LABELS.service]: GATEWAY, [LABELS.revision]: revision, [LABELS.url]: httpsUrl },
    ...(tls ? { tls } : {}),
    url: httpsUrl,
  };
}

/** The files one pod needs, as text, keyed by their role. */
export interface RenderedPod {
  readonly podYaml: string;
  readonly envoyYaml: string;
  /** Only for static services. */
  readonly nginxConf?: string;
}

/** A pod to run and its files, rendered. */
export interface PlannedPod {
  readonly plan: PodPlan;
  readonly rendered: RenderedPod;
}

export interface PlannedGateway {
  readonly plan: GatewayPlan;
  readonly rendered: RenderedPod;
}

/** A spec's whole deployment, planned and rendered: what play runs, diff shows and render prints. */
export interface DeploymentPlan {
  readonly spec: Spec;
  readonly roots: StateRoots;
  /** Every service pod, one per replica. */
  readonly pods: readonly PlannedPod[];
  readonly gateway?: PlannedGateway;
  /** The Envoys (`gateway`, or a service's name) that watch a mesh directory. */
  readonly meshWatchers: ReadonlySet<string>;
  /** The mesh files for a registry; none when no Envoy watches a mesh directory. */
  meshFiles(registry: Registry): MeshFile[];
  /** The registry once every planned pod serves. */
  readonly registry: Registry;
  /** With mTLS: the mesh's identities and how their SDS files render; made or renewed before any pod starts. */
  readonly meshTls?: { readonly plan: MeshTlsPlan; readonly sds: SdsRenderer };
  /** With `gateway.tls.acme`: what the ACME client needs to prove the domains and hand Envoy the certificate. */
  readonly acme?: GatewayAcme;
}

/** The gateway's ACME certificate: its settings, and the files the engine writes for it, rendered. */
export interface GatewayAcme {
  readonly settings: Acme;
  /** The host directory the gateway mounts as its TLS directory: the SDS file, certificates and keys. */
  readonly dir: string;
  /** The gateway's listener file, answering these HTTP-01 challenges on plain HTTP. */
  listeners(challenges: readonly { readonly token: string; readonly keyAuthorization: string }[]): MeshFile;
  /** The SDS file naming a certificate and key by their file names in `dir`. */
  sds(files: { readonly cert: string; readonly key: string }): SdsFile;
}
