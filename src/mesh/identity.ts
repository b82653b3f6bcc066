import path from 'node:path';
import type { Service, Spec } from '../spec/model.js';
import { RESERVED_PORTS } from '../spec/model.js';
import { specStateDir, type StateRoots } from './layout.js';
import { GATEWAY } from './names.js';

/**
 * Who is who in a mesh with mTLS: pure derivations of SPIFFE IDs, of which Envoy serves which
 * certificate, and of who may call whom. The certificates themselves are the engine's
 * (engine/pki); the Envoy configs that use them are render's.
 */

/** The name podvoy's own client identity takes: it checks sidecars' health over mTLS, and may call nothing. */
export const PODVOY_CLIENT = 'podvoy';

/** The trust domain of a deployment: every SPIFFE ID of it starts with `spiffe://<domain>/`. */
export function trustDomain(specName: string): string {
  return `${specName}.podvoy`;
}

/**
 * The SPIFFE ID of an Envoy of the mesh (`gateway` or a service), in the Consul and Kuma form.
 * @example spiffeId('shop', 'api') === 'spiffe://shop.podvoy/svc/api'
 */
export function spiffeId(specName: string, envoy: string): string {
  return envoy === PODVOY_CLIENT ? `spiffe://${trustDomain(specName)}/${PODVOY_CLIENT}` : `spiffe://${trustDomain(specName)}/svc/${envoy}`;
}

/** Every SPIFFE ID of a deployment starts with this. */
export function trustDomainPrefix(specName: string): string {
  return `spiffe://${trustDomain(specName)}/`;
}

/** One certificate the mesh needs. */
export interface Identity {
  /** `gateway`, a service's name, or `podvoy` (the CLI's own client). */
  readonly name: string;
  readonly spiffeId: string;
  /** Whether an Envoy serves it (podvoy's own client identity is used by podvoy alone). */
  readonly envoy: boolean;
}

/** The identities of a spec with mTLS, gateway first, then services in spec order, then podvoy's. */
export function meshIdentities(spec: Spec): Identity[] {
  if (!spec.mtls) return [];
  const envoys = [...(spec.gateway ? [GATEWAY] : []), ...spec.services.map((s) => s.name)];
  return [
    ...envoys.map((name) => ({ name, spiffeId: spiffeId(spec.name, name), envoy: true })),
    { name: PODVOY_CLIENT, spiffeId: spiffeId(spec.name, PODVOY_CLIENT), envoy: false },
  ];
}

/** The members of the mesh: the gateway (if any) and every service. */
export function meshMembers(spec: Spec): string[] {
  return [...(spec.gateway ? [GATEWAY] : []), ...spec.services.map((s) => s.name)];
}

/** Who may call a service, as names: its `allow`, or every other member of the mesh. */
export function allowedCallers(spec: Spec, service: Pick<Service, 'name' | 'allow'>): string[] {
  return service.allow ? [...service.allow] : meshMembers(spec).filter((m) => m !== service.name);
}

/** How the authorization filter matches a caller's SPIFFE ID. */
export interface PrincipalMatcher {
  readonly kind: 'exact' | 'prefix';
  readonly value: string;
}

/**
 * The callers a service's sidecar lets through its authorization filter. Without `allow`, any
 * Envoy of the mesh (a prefix, so that adding a service does not change every sidecar), which
 * leaves out podvoy's own client: it may only ask for health.
 */
export function allowedPrincipals(spec: Spec, service: Pick<Service, 'name' | 'allow'>): PrincipalMatcher[] {
  if (!service.allow) return [{ kind: 'prefix', value: `${trustDomainPrefix(spec.name)}svc/` }];
  return service.allow.map((name) => ({ kind: 'exact', value: spiffeId(spec.name, name) }));
}

/**
 * Where the pki keeps its files: the CA's directory (root's alone) and one directory per
 * identity, which an Envoy of that identity mounts (owned by the container user). Replicas of a
 * service share one identity and so one directory; a replacing pod reads the same files.
 */
export function pkiDir(roots: StateRoots, specName: string): string {
  return path.join(specStateDir(roots, specName), 'pki');
}

export function caDir(roots: StateRoots, specName: string): string {
  return path.join(pkiDir(roots, specName), 'ca');
}

export function identityDir(roots: StateRoots, specName: string, identity: string): string {
  return path.join(pkiDir(roots, specName), 'id', identity);
}

/** The files of podvoy's own client identity, with which it checks a sidecar over mTLS. */
export interface ClientTlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export function podvoyClientFiles(roots: StateRoots, specName: string): ClientTlsFiles {
  const dir = identityDir(roots, specName, PODVOY_CLIENT);
  return { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'trust.pem') };
}

/** What a service's pod needs for mTLS: its identity directory, and how podvoy checks it. */
export interface PodMeshTls {
  /** The host directory of the service's identity, which its sidecar mounts. */
  readonly dir: string;
  readonly client: ClientTlsFiles;
  /** The SPIFFE ID the sidecar's certificate must carry. */
  readonly serverId: string;
}

export function podMeshTls(spec: Spec, service: string, roots: StateRoots): PodMeshTls | undefined {
  if (!spec.mtls) return undefined;
  return { dir: identityDir(roots, spec.name, service), client: podvoyClientFiles(roots, spec.name), serverId: spiffeId(spec.name, service) };
}

/**
 * The SDS files in an identity's directory: Envoy watches the directory and reloads a file when
 * one is renamed into it. Each file names the PEM files of one version, written beside it first.
 */
export const SDS_FILES = { certificate: 'sds-certificate.yaml', trust: 'sds-trust.yaml' } as const;

/** The names of the two SDS secrets every mesh Envoy subscribes to. */
export const SDS_SECRETS = { certificate: 'mesh_certificate', trust: 'mesh_trust' } as const;

/**
 * The path a sidecar answers itself, from its app's health, before authorization: callers'
 * health checks cross the mesh over mTLS but need no permission, and never reach the app.
 */
export const MESH_HEALTH_PATH = '/.podvoy/health';

/**
 * With mTLS a published sidecar keeps plain HTTP for its host port on a listener of its own:
 * the first port from 10001 that nothing else in the pod uses.
 */
export function publishedPort(service: Pick<Service, 'app' | 'sidecar' | 'upstreams'>): number {
  const used = new Set([RESERVED_PORTS.envoyAdmin, service.app.port, service.sidecar.port, ...service.upstreams.map((u) => u.port)]);
  let port = 10_001;
  while (used.has(port)) port++;
  return port;
}

/** What the engine needs to keep a deployment's certificates: a pure function of the spec. */
export interface MeshTlsPlan {
  readonly specName: string;
  readonly identities: readonly Identity[];
  /** Of each leaf certificate. */
  readonly lifetimeMs: number;
  /** The user's CA files (absolute), when the spec names them. */
  readonly ca?: { readonly cert: string; readonly key: string };
}

export function planMeshTls(spec: Spec): MeshTlsPlan | undefined {
  if (!spec.mtls) return undefined;
  return {
    specName: spec.name,
    identities: meshIdentities(spec),
    lifetimeMs: spec.mtls.lifetimeMs,
    ...(spec.mtls.ca ? { ca: spec.mtls.ca } : {}),
  };
}

/** A certificate is renewed once past half its life (Istio and Kuma do the same). */
export function renewalDue(notBefore: Date, notAfter: Date, now: Date): boolean {
  return now.getTime() >= notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) / 2;
}

/** One SDS file and the version it carries, which Envoy's admin reports once applied. */
export interface SdsFile {
  readonly version: string;
  readonly text: string;
}

/** How the SDS files are rendered (render/mesh-tls.ts): the engine writes them, it does not render. */
export interface SdsRenderer {
  /** The file naming an identity's certificate and key, by their file names in its directory. */
  certificate(files: { readonly cert: string; readonly key: string }): SdsFile;
  /** The file naming the trust bundle, by its file name. */
  trust(bundle: string): SdsFile;
}
