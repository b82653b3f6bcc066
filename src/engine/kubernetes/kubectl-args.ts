/** Pure builders of kubectl argument lists; tests pin them exactly. */

/** Which cluster kubectl talks to: kubectl's own defaults (KUBECONFIG, current context) unless given. */
export interface KubeTarget {
  /** A kubeconfig file (`--kubeconfig`). */
  readonly kubeconfig?: string;
  /** A context of it (`--context`). */
  readonly context?: string;
}

/** The global flags naming the cluster, before every command. */
export function targetArgs(target: KubeTarget): string[] {
  return [
    ...(target.kubeconfig ? ['--kubeconfig', target.kubeconfig] : []),
    ...(target.context ? ['--context', target.context] : []),
  ];
}

/** Client and server versions; fails when the server does not answer. */
export function versionArgs(requestTimeoutS = 10): string[] {
  return ['version', '--output', 'json', `--request-timeout=${requestTimeoutS}s`];
}

export function clientVersionArgs(): string[] {
  return ['version', '--client', '--output', 'json'];
}

/**
 * Server-side apply of manifests read from stdin: the apiserver merges them and owns the
 * record of what podvoy set (no last-applied annotation holding every ConfigMap twice).
 */
export function applyArgs(options: { dryRun?: boolean } = {}): string[] {
  return [
    'apply', '--server-side', '--force-conflicts', '--field-manager', 'podvoy',
    ...(options.dryRun ? ['--dry-run=server'] : []),
    '--output', 'name', '--filename', '-',
  ];
}

export function rolloutStatusArgs(namespace: string, deployment: string, timeoutS: number): string[] {
  return ['rollout', 'status', `deployment/${deployment}`, '--namespace', namespace, `--timeout=${Math.max(1, Math.ceil(timeoutS))}s`];
}

export function getJsonArgs(kind: string, namespace?: string, selector?: string): string[] {
  return [
    'get', kind,
    ...(namespace ? ['--namespace', namespace] : []),
    ...(selector ? ['--selector', selector] : []),
    '--output', 'json',
  ];
}

/** The names of what exists in a namespace, for a failure to say what is left. */
export function listNamesArgs(namespace: string): string[] {
  return ['get', 'deployments,services,configmaps,secrets,poddisruptionbudgets,pods', '--namespace', namespace, '--output', 'name'];
}

/** The kinds podvoy applies, for finding what an earlier apply made that this one no longer does. */
const OWNED_KINDS = 'deployments,services,configmaps,secrets,poddisruptionbudgets';

/** The names of the objects of the kinds podvoy applies that carry a selector's labels. */
export function listOwnedArgs(namespace: string, selector: string): string[] {
  return ['get', OWNED_KINDS, '--namespace', namespace, '--selector', selector, '--output', 'name'];
}

/** Deletes objects by `kind/name`; their pods go through their grace period in the background. */
export function deleteObjectsArgs(namespace: string, names: readonly string[]): string[] {
  return ['delete', ...names, '--namespace', namespace, '--ignore-not-found', '--wait=false'];
}

export function secretExistsArgs(namespace: string, name: string): string[] {
  return ['get', 'secret', name, '--namespace', namespace, '--ignore-not-found', '--output', 'name'];
}

/** A TLS Secret as a manifest on stdout, from files: the key goes from its file to the apiserver. */
export function tlsSecretArgs(namespace: string, name: string, cert: string, key: string): string[] {
  return ['create', 'secret', 'tls', name, '--namespace', namespace, '--cert', cert, '--key', key, '--dry-run=client', '--output', 'json'];
}

export function deleteNamespaceArgs(namespace: string, timeoutS: number): string[] {
  return ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', `--timeout=${timeoutS}s`];
}

/** Sets an annotation on the pods of a selector; changing pod metadata restarts nothing. */
export function annotatePodsArgs(namespace: string, selector: string, key: string, value: string): string[] {
  return ['annotate', 'pods', '--namespace', namespace, '--selector', selector, '--overwrite', `${key}=${value}`];
}

/** A GET of a pod's HTTP port through the apiserver's proxy: no route from podvoy to the pod network needed. */
export function podProxyGetArgs(namespace: string, pod: string, port: number, path: string): string[] {
  return ['get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy${path}`];
}

export function namespaceExistsArgs(namespace: string): string[] {
  return ['get', 'namespace', namespace, '--ignore-not-found', '--output', 'name'];
}
