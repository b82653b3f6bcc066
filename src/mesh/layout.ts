import path from 'node:path';
import { ADMIN_SOCKET_FILE } from './contract.js';

/** Where podvoy keeps what it writes on the host. */
export interface StateRoots {
  /** Rendered configs, one directory per pod. @default "/var/lib/podvoy" */
  readonly stateDir: string;
  /** Sockets, one directory per pod; short, as unix socket paths are limited to 107 bytes. @default "/run/podvoy" */
  readonly runDir: string;
}

/** Where podvoy keeps its state unless told otherwise: PODVOY_STATE_DIR and PODVOY_RUN_DIR, else /var/lib/podvoy and /run/podvoy. */
export function defaultRoots(env: NodeJS.ProcessEnv = process.env): StateRoots {
  return {
    stateDir: env.PODVOY_STATE_DIR || '/var/lib/podvoy',
    runDir: env.PODVOY_RUN_DIR || '/run/podvoy',
  };
}

/** Host paths of one pod's files. */
export interface PodPaths {
  readonly configDir: string;
  readonly podYaml: string;
  readonly nginxConf: string;
  readonly envoyConf: string;
  /** On the host's /run (a tmpfs), root's alone: holds the two directories below. */
  readonly runDir: string;
  /** Mounted in the Envoy container at /run/podvoy; Envoy creates its admin socket there. */
  readonly adminDir: string;
  readonly adminSocket: string;
  /** Mounted at /tmp in the app container: a writable place on a read-only root, in memory. */
  readonly tmpDir: string;
}

/**
 * The mesh directory of one Envoy (`gateway` or a service's name): the xDS files it watches.
 * It is keyed by the service, not the pod, so a replacing pod reads the same registry.
 */
export function xdsDir(roots: StateRoots, specName: string, envoy: string): string {
  return path.join(specStateDir(roots, specName), 'xds', envoy);
}

/** Held while a command changes a spec's pods or mesh files. */
export function lockFile(roots: StateRoots, specName: string): string {
  return path.join(roots.stateDir, `${specName}.lock`);
}

/**
 * Rewritten by every command as it lets go of a spec's lock: a listing of pods taken while it
 * read the same may have missed no change of any podvoy command.
 */
export function changeMarkFile(roots: StateRoots): string {
  return path.join(roots.stateDir, 'changes.mark');
}

/**
 * Where the gateway's certificate and key are kept for mounting: the self-signed pair podvoy
 * generates, or a copy of the user's files, owned by the unprivileged container user.
 */
export function tlsDir(roots: StateRoots, specName: string): string {
  return path.join(specStateDir(roots, specName), 'tls');
}

/** Root's alone: the ACME account key of a spec's gateway and the record of its certificate. */
export function acmeDir(roots: StateRoots, specName: string): string {
  return path.join(specStateDir(roots, specName), 'acme');
}

/** The directory holding every pod of a spec. */
export function specStateDir(roots: StateRoots, specName: string): string {
  return path.join(roots.stateDir, specName);
}

export function podPaths(roots: StateRoots, specName: string, pod: string): PodPaths {
  const configDir = path.join(specStateDir(roots, specName), pod);
  const runDir = path.join(roots.runDir, pod);
  return {
    configDir,
    podYaml: path.join(configDir, 'pod.yaml'),
    nginxConf: path.join(configDir, 'nginx.conf'),
    envoyConf: path.join(configDir, 'envoy.yaml'),
    runDir,
    adminDir: path.join(runDir, 'admin'),
    adminSocket: path.join(runDir, 'admin', ADMIN_SOCKET_FILE),
    tmpDir: path.join(runDir, 'tmp'),
  };
}

