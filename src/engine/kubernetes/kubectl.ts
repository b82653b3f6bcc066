import { EngineCommandError, KubeUnreachableError } from '../../errors.js';
import { runProgram, type ProgramResult } from '../exec.js';
import { targetArgs, type KubeTarget } from './kubectl-args.js';

/**
 * kubectl, driven as a CLI. Argument lists come from the pure builders in `kubectl-args.ts`;
 * this module runs them and turns failures into errors that say what to do.
 */

export const KUBECTL_INSTALL_HINT =
  'Install kubectl (kubernetes.io/docs/tasks/tools), or put the cluster\'s own kubectl on PATH (the test cluster\'s is under /var/cache/podvoy/kube/<release>/bin).';

export interface KubectlOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** No kubectl call of podvoy's should take longer, unless it says so (rollout status, delete). */
const DEFAULT_TIMEOUT_MS = 60_000;

export async function kubectlRaw(target: KubeTarget, args: readonly string[], options: KubectlOptions = {}): Promise<ProgramResult> {
  return runProgram('kubectl', [...targetArgs(target), ...args], { timeoutMs: DEFAULT_TIMEOUT_MS, ...options, installHint: KUBECTL_INSTALL_HINT });
}

/** Runs kubectl and throws a classified error unless it exits 0. */
export async function kubectl(target: KubeTarget, args: readonly string[], options: KubectlOptions = {}): Promise<ProgramResult> {
  const result = await kubectlRaw(target, args, options);
  if (result.exitCode !== 0) throw classifyKubectlFailure(target, result);
  return result;
}

const UNREACHABLE = [
  /Unable to connect to the server/i,
  /connection refused/i,
  /The connection to the server .* was refused/i,
  /no such host/i,
  /i\/o timeout/i,
  /context deadline exceeded/i,
  /the server is currently unable to handle the request/i,
  /couldn't get current server API group list/i,
  /TLS handshake timeout/i,
  /^timed out after \d+ ms$/,
];

const CONFIG = [/Please enter Username/i, /context was not found for specified context/i, /no context exists with the name/i, /invalid configuration/i, /stat .*: no such file or directory/i];

const KNOWN_FAILURES: ReadonlyArray<readonly [RegExp, string]> = [
  [/Unauthorized|You must be logged in/i, 'The cluster refuses these credentials. Check the kubeconfig\'s user, or get a fresh one from the cluster\'s admin.'],
  [/forbidden/i, 'These credentials may not do this. Ask for rights to manage namespaces, Deployments, Services, ConfigMaps, Secrets and PodDisruptionBudgets.'],
  [/strict decoding error|unknown field/i, 'The cluster does not know a field podvoy set: it may be older than podvoy supports (1.30). This is a podvoy bug otherwise.'],
  [/violates PodSecurity/i, 'The namespace enforces the restricted Pod Security Standard; an app image that runs as root cannot run there. Use an image with a non-root USER.'],
];

/** The one place kubectl's failures are classified, from exit code and stderr. */
export function classifyKubectlFailure(target: KubeTarget, result: ProgramResult): EngineCommandError | KubeUnreachableError {
  const stderr = result.stderr.trim();
  if (CONFIG.some((p) => p.test(stderr))) {
    return new KubeUnreachableError(describeTarget(target), lastLine(stderr), 'Check --kubeconfig and --context (kubectl config get-contexts lists them).');
  }
  if (UNREACHABLE.some((p) => p.test(stderr))) {
    return new KubeUnreachableError(describeTarget(target), lastLine(stderr), 'Start the cluster or fix the context\'s server address, then try again.');
  }
  const hint = KNOWN_FAILURES.find(([pattern]) => pattern.test(stderr))?.[1] ?? '';
  return new EngineCommandError(result.argv, result.exitCode, stderr, hint);
}

export function describeTarget(target: KubeTarget): string {
  const parts = [target.context ? `context ${target.context}` : 'the current context', target.kubeconfig ? `of ${target.kubeconfig}` : ''];
  return parts.filter(Boolean).join(' ');
}

function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).at(-1) ?? '';
}
