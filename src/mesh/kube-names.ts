import type { Spec } from '../spec/model.js';
import { GATEWAY } from './names.js';

/**
 * Every name and label podvoy gives to Kubernetes objects, derived in one place so that the
 * renderer, `kube apply` and `kube delete` always agree.
 */

/** The cluster DNS domain the mesh's Envoys resolve services in (kubelet's --cluster-domain). */
export const CLUSTER_DOMAIN = 'cluster.local';

/** Each deployment gets its own namespace, named like the podman network. */
export function kubeNamespace(spec: Pick<Spec, 'name'>): string {
  return `podvoy-${spec.name}`;
}

/** The recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels). */
export const KUBE_LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** What selects a service's pods (a Deployment's selector may never change, so it holds only these). */
export function kubeSelector(spec: Pick<Spec, 'name'>, workload: string): Record<string, string> {
  return { [KUBE_LABELS.instance]: spec.name, [KUBE_LABELS.name]: workload };
}

/** Every label of a service's (or the gateway's) objects. */
export function kubeLabels(spec: Pick<Spec, 'name'>, workload: string): Record<string, string> {
  return {
    ...kubeSelector(spec, workload),
    [KUBE_LABELS.component]: workload === GATEWAY ? 'gateway' : 'service',
    [KUBE_LABELS.partOf]: spec.name,
    [KUBE_LABELS.managedBy]: 'podvoy',
  };
}

/** What selects every object a deployment's apply makes (the Namespace aside). */
export function kubeOwnedSelector(spec: Pick<Spec, 'name'>): string {
  return `${KUBE_LABELS.partOf}=${spec.name},${KUBE_LABELS.managedBy}=podvoy`;
}

/** Objects of one workload (a service, or the gateway), by kind. */
export function kubeObjectNames(workload: string): {
  deployment: string;
  headless: string;
  exposed: string;
  config: string;
  mesh: string;
  meshTls: string;
  pdb: string;
} {
  return {
    deployment: workload,
    // A headless Service: its DNS name resolves to every ready pod, as pod names do on podman.
    headless: workload,
    exposed: workload === GATEWAY ? GATEWAY : `${workload}-public`,
    config: `${workload}-config`,
    mesh: `${workload}-mesh`,
    // The workload's mesh identity: made and renewed by `kube apply`, never rendered.
    meshTls: `${workload}-mesh-tls`,
    pdb: workload,
  };
}

/** The Secret holding the gateway's certificate and key; never part of rendered output. */
export const GATEWAY_TLS_SECRET = 'gateway-tls';

/** A service's DNS name in the cluster; the trailing dot spares the resolver the search list. */
export function serviceDnsName(spec: Pick<Spec, 'name'>, service: string): string {
  return `${service}.${kubeNamespace(spec)}.svc.${CLUSTER_DOMAIN}.`;
}

/** The repository of a static service's site image (tagged by a hash of the site). */
export function siteImageRepository(spec: Pick<Spec, 'name' | 'kubernetes'>, service: string): string {
  return `${spec.kubernetes?.registry ?? DEFAULT_REGISTRY}/${spec.name}-${service}`;
}

/** Where site images go without a registry: the cluster's own image store, by import. */
export const DEFAULT_REGISTRY = 'localhost/podvoy';
