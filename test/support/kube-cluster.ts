import { execFile, spawn } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The repository root, where scripts/kube-* live. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Kept in step with scripts/kube/common.sh. */
export const KUBE_VERSION = 'v1.34.4';
export const KUBE_CACHE = process.env.PODVOY_KUBE_CACHE ?? `/var/cache/podvoy/kube/${KUBE_VERSION}`;
export const KUBE_BIN = path.join(KUBE_CACHE, 'bin');
/** Holds the state directory of the cluster that is up (scripts/kube-up writes it). */
export const KUBE_ACTIVE_MARKER = '/run/podvoy-kube.active';
/**
 * The state directory of the cluster that is up (its kube-apiserver alive, as scripts/kube/common.sh's
 * kube_pid_alive judges it). A marker left by a cluster that did not stop counts as none: kube-up cleans it up.
 */
export async function liveClusterState(): Promise<string | undefined> {
  const state = (await readFile(KUBE_ACTIVE_MARKER, 'utf8').catch(() => '')).trim();
  if (!state) return undefined;
  const pid = (await readFile(path.join(state, 'pids/kube-apiserver.pid'), 'utf8').catch(() => '')).trim();
  return pid !== '' && (await readlink(`/proc/${pid}/exe`).catch(() => '')).startsWith(`${KUBE_CACHE}/`) ? state : undefined;
}

/** The node's own address (a /32 on lo): its kubelet, and CoreDNS on port 53. */
export const KUBE_NODE_IP = '10.233.255.1';
/** The kube-dns Service, which pods are given as their resolver. */
export const KUBE_DNS_IP = '10.233.64.10';

/**
 * Environment the `kube` vitest project's global setup (test/support/kube-global-setup.ts) sets
 * for every test: the admin kubeconfig of the cluster it started (also as KUBECONFIG, with the
 * cluster's kubectl first on PATH), or why the cluster could not be started.
 */
export const KUBECONFIG_ENV = 'PODVOY_KUBECONFIG';
export const KUBE_UP_ERROR_ENV = 'PODVOY_KUBE_UP_ERROR';

/**
 * The admin kubeconfig of the test cluster. Throws, with what to do, when the cluster is not
 * up: call it in `beforeAll`, so every test of the file fails with that reason.
 */
export function testClusterKubeconfig(): string {
  const failure = process.env[KUBE_UP_ERROR_ENV];
  if (failure) throw new Error(`The test cluster did not come up: ${failure}`);
  const kubeconfig = process.env[KUBECONFIG_ENV];
  if (!kubeconfig) {
    throw new Error(
      `${KUBECONFIG_ENV} is not set: cluster tests run in the vitest project "kube", whose global setup starts the ` +
        'cluster (npx vitest run --project kube), or set PODVOY_KUBE_REUSE=1 to use a cluster scripts/kube-up started.',
    );
  }
  return kubeconfig;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program; resolves with its exit code and output instead of throwing on failure. */
export async function runCommand(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** The cluster's kubectl against the test cluster. Throws with stderr unless `allowFailure`. */
export async function kubectl(
  args: readonly string[],
  options: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const kubeconfig = testClusterKubeconfig();
  const result = await runCommand(path.join(KUBE_BIN, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], options);
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result;
}

export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
}

/** Applies objects (serialised as one JSON List); extra args such as `--dry-run=server`. */
export async function kubectlApply(objects: readonly object[], extraArgs: readonly string[] = [], allowFailure = false): Promise<CommandResult> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return kubectl(['apply', '-f', '-', ...extraArgs], { input: JSON.stringify(list), allowFailure });
}

/** The newest `localhost/podvoy/<component>` image podman has (built by scripts/setup). */
export async function localPodvoyImage(component: 'nginx' | 'envoy'): Promise<string> {
  const repository = `localhost/podvoy/${component}`;
  const { stdout } = await exec('podman', ['images', '--filter', `reference=${repository}`, '--format', '{{.Repository}}:{{.Tag}}']);
  const image = stdout.split('\n').find(Boolean);
  if (!image) throw new Error(`podman has no ${repository} image: run scripts/setup (it builds it).`);
  return image;
}

/** Copies podman images into the cluster's containerd (scripts/kube-load-image). */
export async function loadImagesIntoCluster(images: readonly string[]): Promise<void> {
  testClusterKubeconfig();
  const result = await runCommand(path.join(REPO_ROOT, 'scripts/kube-load-image'), images, { timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`scripts/kube-load-image ${images.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
}

/** Polls `probe` until it returns a value (not undefined), or fails with its last error. */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
