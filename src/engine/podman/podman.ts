import { EngineCommandError } from '../../errors.js';
import { runProgram, type ProgramResult } from '../exec.js';
import { GLOBAL_ARGS } from './args.js';
import { takeEarly } from './early.js';

/**
 * podman, driven as a CLI. Argument lists come from the pure builders in `args.ts`;
 * this module runs them and turns failures into errors that say what to do.
 */

export const PODMAN_INSTALL_HINT = 'Run scripts/setup, or install podman and runc (apt-get install podman runc).';

export interface PodmanOptions {
  readonly input?: string;
  readonly inherit?: boolean;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Runs podman and returns its result whatever the exit code (doctor reads failures as findings). */
export async function podmanRaw(args: readonly string[], options: PodmanOptions = {}): Promise<ProgramResult> {
  const early = options.input === undefined && !options.inherit ? await takeEarly(args) : undefined;
  return early ?? runProgram('podman', [...GLOBAL_ARGS, ...args], { ...options, installHint: PODMAN_INSTALL_HINT });
}

/** Runs podman and throws a classified `EngineCommandError` unless it exits 0. */
export async function podman(args: readonly string[], options: PodmanOptions = {}): Promise<ProgramResult> {
  const result = await podmanRaw(args, options);
  if (result.exitCode !== 0) throw classifyPodmanFailure(result);
  return result;
}

/** Whether a podman command exits 0: for `exists` checks and steps whose failure is an answer. */
export async function podmanSucceeds(args: readonly string[], options: PodmanOptions = {}): Promise<boolean> {
  return (await podmanRaw(args, options)).exitCode === 0;
}

/** podman prints warnings about unrelated CNI files on every call; they only hide the real error. */
export function stripPodmanWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^time="[^"]*" level=warning/.test(line))
    .join('\n');
}

const KNOWN_FAILURES: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /error setting rlimit|setrlimit/i,
    "podman asks for ulimits above this machine's hard limits. Run scripts/setup " +
      '(it sets `default_ulimits = []` in /etc/containers/containers.conf.d/50-podvoy.conf).',
  ],
  [/cgroups in hybrid mode not supported/i, 'This host needs the runc runtime: apt-get install runc.'],
  [/netavark: No such file or directory/i, 'netavark needs iptables: apt-get install iptables (or run scripts/setup).'],
  [/OCI runtime "runc" not found|exec: "runc": executable file not found/i, 'Install runc: apt-get install runc.'],
  [/address already in use/i, 'A host port the pod publishes is taken; free it or publish another port.'],
  [
    /initializing source|pinging container registry|image not known|manifest unknown/i,
    'The image is not available locally and cannot be pulled. Run `podvoy images build`, or name an image that exists.',
  ],
];

/** The one place podman's failures are classified, from exit code and stderr. */
export function classifyPodmanFailure(result: ProgramResult): EngineCommandError {
  const stderr = stripPodmanWarnings(result.stderr);
  const hint = KNOWN_FAILURES.find(([pattern]) => pattern.test(stderr))?.[1] ?? '';
  return new EngineCommandError(result.argv, result.exitCode, stderr, hint);
}
