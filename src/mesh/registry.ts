import type { Service, Spec } from '../spec/model.js';
import { GATEWAY } from './names.js';

/**
 * The mesh's registry: which pods serve each service. It is not stored anywhere: podvoy derives
 * it from the pods podman runs, so a command that was killed half-way leaves nothing to repair
 * but the pods themselves.
 */
export type Registry = Readonly<Record<string, readonly string[]>>;

/** The services an Envoy has a cluster of: the gateway every service, a sidecar the upstreams it calls. */
export function servicesCalledBy(spec: Pick<Spec, 'services'>, envoy: string): Service[] {
  if (envoy === GATEWAY) return [...spec.services];
  const upstreams = spec.services.find((s) => s.name === envoy)?.upstreams ?? [];
  return upstreams.map((u) => spec.services.find((s) => s.name === u.service)!);
}

/** The registry with `pods` added to (or, with `remove`, taken from) their services. */
export function withPods(registry: Registry, pods: readonly { service: string; pod: string }[]): Registry {
  const next = byService(Object.entries(registry).map(([k, v]) => [k, [...v]]));
  for (const { service, pod } of pods) {
    const list = (next[service] ??= []);
    if (!list.includes(pod)) list.push(pod);
  }
  return sortRegistry(next);
}

export function withoutPods(registry: Registry, pods: readonly string[]): Registry {
  const gone = new Set(pods);
  return sortRegistry(Object.fromEntries(Object.entries(registry).map(([k, v]) => [k, v.filter((p) => !gone.has(p))])));
}

/** Sorted, so that the same pods always render the same files and versions. */
function sortRegistry(registry: Record<string, string[]>): Registry {
  return byService(
    Object.keys(registry)
      .sort()
      .map((k) => [k, [...registry[k]!].sort()]),
  );
}

/**
 * A map from service names without a prototype: `constructor` is a valid service name, and must
 * not find Object's constructor where a service has no pods yet.
 */
function byService(entries: readonly (readonly [string, string[]])[]): Record<string, string[]> {
  return Object.assign(Object.create(null) as Record<string, string[]>, Object.fromEntries(entries));
}

/** One xDS file of the mesh directory, as rendered for a registry. */
export interface MeshFile {
  /** Which Envoy watches it: `gateway` or a service's name. */
  readonly envoy: string;
  /** Host path of the file. */
  readonly path: string;
  readonly kind: 'clusters' | 'listeners' | 'routes';
  /** The version_info inside; the Envoy's admin API reports it once applied. */
  readonly version: string;
  readonly text: string;
}
