import type { Service, Spec } from '../spec/model.js';

/**
 * Every name and label podvoy gives to podman objects, derived in one place so that play, ps,
 * logs and down always agree.
 */

/** Label keys podvoy puts on every pod it plays. */
export const LABELS = {
  spec: 'io.podvoy.spec',
  service: 'io.podvoy.service',
  revision: 'io.podvoy.revision',
  url: 'io.podvoy.url',
} as const;

/** The container names inside every pod (podman prefixes them with the pod's name). */
export const CONTAINERS = { nginx: 'nginx', app: 'app', envoy: 'envoy' } as const;

/** The podman network all pods of a spec join. */
export function networkName(spec: Pick<Spec, 'name'>): string {
  return `podvoy-${spec.name}`;
}

/**
 * A pod's name carries its revision, so that a changed service can start beside the pod it
 * replaces and the old one is removed only once the new one is ready; replicas are numbered
 * from 1 when there is more than one.
 */
export function podName(spec: Pick<Spec, 'name'>, service: Pick<Service, 'name'>, revision: string, replica?: number): string {
  return `${spec.name}-${service.name}-${revision}${replica === undefined ? '' : `-${replica}`}`;
}

/** podman's kube play names a pod's containers `<pod>-<container>`. */
export function containerName(pod: string, container: string): string {
  return `${pod}-${container}`;
}

/** The containers a service's pod holds, app first. */
export function serviceContainers(service: Pick<Service, 'app'>): string[] {
  return service.app.kind === 'static' ? [CONTAINERS.nginx, CONTAINERS.envoy] : [CONTAINERS.app, CONTAINERS.envoy];
}

/** The URL a published sidecar answers on, as printed by play and ps. */
export function serviceUrl(service: Pick<Service, 'sidecar'>): string | undefined {
  const publish = service.sidecar.publish;
  if (!publish) return undefined;
  const host = publish.hostIP === '0.0.0.0' ? '127.0.0.1' : publish.hostIP;
  return `http://${host}:${publish.hostPort}/`;
}

/** The Envoy of a mesh's gateway has its own pod, named like a service's. */
export const GATEWAY = 'gateway';

/** The gateway pod carries its revision for the same reason service pods do. */
export function gatewayPodName(spec: Pick<Spec, 'name'>, revision: string): string {
  return `${spec.name}-${GATEWAY}-${revision}`;
}
