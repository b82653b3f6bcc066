import path from 'node:path';

/** Where podvoy keeps what it writes on the host. */
export interface StateRoots {
  /** Rendered configs, one directory per pod. @default "/var/lib/podvoy" */
  readonly stateDir: string;
  /** Sockets, one directory per pod; short, as unix socket paths are limited to 107 bytes. @default "/run/podvoy" */
  readonly runDir: string;
}

/** Host paths of one pod's files. */
export interface PodPaths {
  readonly configDir: string;
  readonly podYaml: string;
  readonly nginxConf: string;
  readonly envoyConf: string;
  readonly runDir: string;
  readonly adminSocket: string;
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
    adminSocket: path.join(runDir, ADMIN_SOCKET),
  };
}

/** The admin socket's file name, the same on the host and in the container's /run/podvoy. */
export const ADMIN_SOCKET = 'admin.sock';
/** Where the pod's run directory is mounted in the Envoy container. */
export const CONTAINER_RUN_DIR = '/run/podvoy';
