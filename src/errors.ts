/** Base of every error a user can cause; the CLI prints its message and exits non-zero. */
export class PodvoyError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** One problem found in a spec, with where it is. */
export interface SpecProblem {
  /** The spec file as the user named it. */
  readonly file: string;
  /** 1-based line and column of the offending node. */
  readonly line: number;
  readonly column: number;
  /** Dotted path of the offending key, e.g. `services.web.static`; empty for the document. */
  readonly path: string;
  /** What is wrong and what to do, as one sentence or two. */
  readonly message: string;
}

export function formatProblem(p: SpecProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** A message lists at most this many problems; `SpecError.problems` holds them all. */
export const SHOWN_PROBLEMS_MAX = 50;

/** A spec that cannot be played: every problem at once, each with its position. */
export class SpecError extends PodvoyError {
  constructor(readonly problems: readonly SpecProblem[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    const listed = problems.slice(0, SHOWN_PROBLEMS_MAX).map((p) => `  ${formatProblem(p)}`);
    const more = problems.length - listed.length;
    if (more > 0) listed.push(`  ...and ${more} more (${more === 1 ? 'it is' : 'they are'} not shown). Fix these first.`);
    super(`The spec has ${count}:\n${listed.join('\n')}`);
  }
}

/** The spec file itself cannot be read. */
export class SpecFileError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`Cannot read spec ${file}: ${reason}. Check the path and try again.`);
  }
}

/** A program podvoy drives is missing. */
export class EngineNotFoundError extends PodvoyError {
  constructor(
    readonly program: string,
    readonly fix: string,
  ) {
    super(`${program} not found on PATH. ${fix}`);
  }
}

/** A podman (or other engine) command failed; carries what was run and what it said. */
export class EngineCommandError extends PodvoyError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly hint = '',
  ) {
    const said = stderr.trim().split('\n').slice(-5).join('\n    ');
    super(
      `\`${argv.join(' ')}\` failed` +
        (exitCode === undefined ? '' : ` (exit ${exitCode})`) +
        (said ? `:\n    ${said}` : '.') +
        (hint ? `\n${hint}` : ''),
    );
  }
}

/** An image the spec needs is neither present locally nor pullable. */
export class ImageMissingError extends PodvoyError {
  constructor(
    readonly image: string,
    readonly fix: string,
  ) {
    super(`Image ${image} is not available. ${fix}`);
  }
}

/** Envoy rejected a rendered configuration (`envoy --mode validate`, or the pod's Envoy as it started). */
export class EnvoyConfigError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly output: string,
  ) {
    super(
      `Envoy rejects the configuration rendered to ${file}:\n    ${output.trim().split('\n').slice(-5).join('\n    ')}\n` +
        'This is a podvoy bug if the spec validated; please report it with the spec.',
    );
  }
}

/** nginx rejected a rendered configuration (`nginx -t`, or the pod's nginx as it started). */
export class NginxConfigError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly output: string,
  ) {
    super(
      `nginx rejects the configuration rendered to ${file}:\n    ${output.trim().split('\n').slice(-5).join('\n    ')}\n` +
        'This is a podvoy bug if the spec validated; please report it with the spec.',
    );
  }
}

/** A host port the spec publishes is taken by something else. */
export class PortInUseError extends PodvoyError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly where: string,
  ) {
    super(
      `Host port ${host}:${port} (${where}) is already in use. ` +
        'Stop what listens there (ss -ltnp shows it) or publish another port.',
    );
  }
}

/** A pod started but never became ready; it was removed again. */
export class PodNotReadyError extends PodvoyError {
  constructor(
    readonly pod: string,
    readonly waitedMs: number,
    readonly reason: string,
    readonly logs: string,
  ) {
    super(
      `Pod ${pod} did not become ready within ${(waitedMs / 1000).toFixed(1)} s: ${reason}. ` +
        'It was removed and any earlier deployment restored.' +
        (logs.trim() ? `\nLast log lines:\n    ${logs.trim().split('\n').slice(-15).join('\n    ')}` : ''),
    );
  }
}

/** Pods podman would not remove, even when asked again. */
export class PodRemovalError extends PodvoyError {
  constructor(
    readonly pods: readonly string[],
    readonly said: string,
  ) {
    super(`Could not remove ${pods.join(', ')}: ${said}\nRemove ${pods.length > 1 ? 'them' : 'it'} with \`podman pod rm --force ${pods.join(' ')}\`.`);
  }
}

/** A play failed, and its rollback could not remove every pod it had started. */
export class RollbackIncompleteError extends PodvoyError {
  constructor(
    readonly failure: Error,
    /** Usually a PodRemovalError. */
    readonly removal: Error,
  ) {
    super(`${failure.message}\nThe rollback left pods behind. ${removal.message}`);
  }
}

/** A command names a spec that has nothing deployed, or a container the pod does not have. */
export class NotDeployedError extends PodvoyError {}

/** Another podvoy command holds the lock of a spec for longer than we wait. */
export class LockTimeoutError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly holder: string,
    readonly waitedMs: number,
  ) {
    super(
      `Another podvoy command (pid ${holder}) is changing this spec; waited ${(waitedMs / 1000).toFixed(0)} s for ${file}. ` +
        'Let it finish and try again; if no podvoy runs, remove that file.',
    );
  }
}

/** The mesh did not reach the expected state in time. */
export class MeshTimeoutError extends PodvoyError {
  constructor(
    readonly waitedFor: string,
    readonly waitedMs: number,
  ) {
    super(`Timed out after ${(waitedMs / 1000).toFixed(1)} s waiting for ${waitedFor}. \`podvoy logs\` shows what Envoy said.`);
  }
}

/** Envoy refused a mesh file; it keeps running with the file's previous version. */
export class MeshFileRejectedError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly pod: string,
    readonly reason: string,
  ) {
    super(`Envoy in ${pod} rejected ${file} and keeps its previous version: ${reason}\nThis is a podvoy bug if the spec validated; please report it with the spec.`);
  }
}

/** One spec feature that cannot be the same on a Kubernetes cluster. */
export interface KubernetesProblem {
  /** Dotted path of the spec key, e.g. `gateway.https`. */
  readonly path: string;
  /** Why, and the Kubernetes way to get it. */
  readonly message: string;
}

/** A spec that cannot run on a cluster as it runs on podman: every reason at once. */
export class KubernetesRenderError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly problems: readonly KubernetesProblem[],
  ) {
    const count = problems.length === 1 ? 'a feature' : `${problems.length} features`;
    super(
      `${file} has ${count} a Kubernetes cluster cannot run the same way:\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
  }
}

/** kubectl cannot reach the cluster, or the kubeconfig/context is wrong; nothing was applied. */
export class KubeUnreachableError extends PodvoyError {
  constructor(
    readonly target: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`Cannot reach the cluster of ${target}: ${reason}. Nothing was applied. ${fix}`);
  }
}

/** The cluster is too old for what the manifests need; nothing was applied. */
export class KubeVersionError extends PodvoyError {
  constructor(
    readonly serverVersion: string,
    readonly minimum: string,
  ) {
    super(
      `The cluster runs Kubernetes ${serverVersion}; podvoy needs ${minimum} or newer, for native sidecars ` +
        '(init containers with restartPolicy: Always, 1.29) and the preStop sleep that drains a pod (1.30). ' +
        'Nothing was applied. Upgrade the cluster, or use another context.',
    );
  }
}

/** A rollout did not complete in time: why each stuck pod is stuck, and what exists now. */
export class KubeRolloutError extends PodvoyError {
  constructor(
    readonly namespace: string,
    readonly deployment: string,
    readonly waitedMs: number,
    readonly reasons: readonly string[],
    readonly existing: readonly string[],
  ) {
    super(
      `Deployment ${deployment} in namespace ${namespace} did not roll out within ${(waitedMs / 1000).toFixed(0)} s` +
        (reasons.length ? `:\n${reasons.map((r) => `  ${r}`).join('\n')}` : ' (no pod reported a reason).') +
        `\nWhat exists in ${namespace} now: ${existing.length ? existing.join(', ') : 'nothing'}.` +
        `\nFix the cause and apply again, or remove it all with \`podvoy kube delete <spec>\`.`,
    );
  }
}

/** The mesh's certificates cannot be made, read or applied; the message says what to fix. */
export class CertificateError extends PodvoyError {}

/** The host's inotify limit leaves too little room for the Envoys a deployment runs; nothing was started. */
export class InotifyLimitError extends PodvoyError {
  constructor(
    readonly limit: number,
    readonly envoys: number,
    readonly needed: number,
    readonly recommended: number,
  ) {
    super(
      `fs.inotify.max_user_instances is ${limit}, and the ${envoys} Envoys of this deployment may need ${needed} ` +
        '(each watches its mesh and identity files; they all run as uid 101). Nothing was started. ' +
        `Run scripts/setup, or: sysctl -w fs.inotify.max_user_instances=${recommended} (and keep it in /etc/sysctl.d/).`,
    );
  }
}

/** Applying failed half-way: what kubectl said, and what exists in the namespace now. */
export class KubeApplyError extends PodvoyError {
  constructor(
    readonly namespace: string,
    override readonly cause: PodvoyError,
    readonly existing: readonly string[],
  ) {
    super(
      `${cause.message}\nWhat exists in ${namespace} now: ${existing.length ? existing.join(', ') : 'nothing'}.` +
        '\nFix the cause and apply again, or remove it all with `podvoy kube delete <spec>`.',
    );
  }
}

/** An ACME server did not issue the gateway's certificate; the gateway keeps serving the one it has. */
export class AcmeError extends PodvoyError {
  constructor(
    readonly directory: string,
    readonly domains: readonly string[],
    /** What the ACME server (or the way to it) said. */
    readonly detail: string,
    /** What the gateway serves meanwhile. */
    readonly serving: string,
  ) {
    super(
      `The ACME server ${directory} did not issue a certificate for ${domains.join(', ')}: ${detail}. ` +
        `The gateway keeps serving ${serving}. Check that each domain points at this host and that its HTTP port is reachable from the internet, then play again or run \`podvoy certs renew\`.`,
    );
  }
}
