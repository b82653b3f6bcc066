import { IN_POD } from '../../mesh/contract.js';
import { LABELS } from '../../mesh/names.js';

/** Pure builders of podman argument lists (after the global flags); tests pin them exactly. */

/**
 * Every podman call names its OCI runtime: podvoy promises podman -> conmon -> runc whatever
 * the host's default (crun, podman's default on Debian, fails on cgroups v1 hybrid hosts).
 */
export const GLOBAL_ARGS = ['--runtime', 'runc'] as const;

export function kubePlayArgs(podYaml: string, network: string): string[] {
  return ['kube', 'play', '--network', network, podYaml];
}

export function podRmArgs(pods: readonly string[], stopSeconds: number): string[] {
  return ['pod', 'rm', '--force', '--ignore', '--time', String(stopSeconds), ...pods];
}

export function podStopArgs(pods: readonly string[], stopSeconds: number): string[] {
  return ['pod', 'stop', '--ignore', '--time', String(stopSeconds), ...pods];
}

export function podStartArgs(pods: readonly string[]): string[] {
  return ['pod', 'start', ...pods];
}

/** All podvoy pods, or those of one spec, as JSON. */
export function podPsArgs(specName?: string): string[] {
  const filter = specName === undefined ? `label=${LABELS.spec}` : `label=${LABELS.spec}=${specName}`;
  return ['pod', 'ps', '--filter', filter, '--format', 'json'];
}

/** The names of those of `pods` that exist. */
export function podNamesArgs(pods: readonly string[]): string[] {
  return ['pod', 'ps', ...pods.flatMap((pod) => ['--filter', `name=^${pod}$`]), '--format', '{{.Name}}'];
}

export function podLogsArgs(pod: string, options: { container?: string; follow?: boolean; tail?: number; since?: Date }): string[] {
  const args = ['pod', 'logs', '--names'];
  if (options.container) args.push('--container', options.container);
  if (options.follow) args.push('--follow');
  if (options.tail !== undefined) args.push('--tail', String(options.tail));
  if (options.since) args.push('--since', options.since.toISOString());
  return [...args, pod];
}

/** A container's whole log, stdout and stderr. */
export function containerLogsArgs(container: string): string[] {
  return ['logs', container];
}

export function containerInspectArgs(containers: readonly string[]): string[] {
  return ['container', 'inspect', '--format', 'json', ...containers];
}

export function networkExistsArgs(network: string): string[] {
  return ['network', 'exists', network];
}

export function networkCreateArgs(network: string, specName: string): string[] {
  return ['network', 'create', '--label', `${LABELS.spec}=${specName}`, network];
}

export function networkRmArgs(network: string): string[] {
  return ['network', 'rm', '--force', network];
}

export function imageExistsArgs(image: string): string[] {
  return ['image', 'exists', image];
}

export function imagePullArgs(image: string): string[] {
  return ['pull', '--quiet', image];
}

/** Newest first, so the first local build of an image name is the one to use; several references are or-ed. */
export function imageListArgs(references: readonly string[]): string[] {
  return ['images', ...references.flatMap((r) => ['--filter', `reference=${r}`]), '--sort', 'created', '--format', '{{.Repository}}:{{.Tag}}'];
}

export function imageBuildArgs(tags: readonly string[], containerfile: string, context: string): string[] {
  return ['build', '--quiet', ...tags.flatMap((t) => ['--tag', t]), '--file', containerfile, context];
}

/**
 * Runs Envoy from the very image the pod will use, to check a config before anything starts.
 * A bootstrap that reads a mesh directory, or SDS files of an identity directory, needs it
 * mounted: Envoy checks that its files exist.
 */
export function envoyValidateArgs(image: string, configFile: string, xdsDir?: string, meshTlsDir?: string): string[] {
  return [
    'run', '--rm', '--network', 'none',
    '--volume', `${configFile}:${IN_POD.envoyConfig}:ro`,
    ...(xdsDir ? ['--volume', `${xdsDir}:${IN_POD.xdsDir}:ro`] : []),
    ...(meshTlsDir ? ['--volume', `${meshTlsDir}:${IN_POD.meshTlsDir}:ro`] : []),
    '--entrypoint', IN_POD.envoyBinary,
    image, '--mode', 'validate', '-c', IN_POD.envoyConfig, '--log-level', 'error',
  ];
}

/**
 * Runs `nginx -t` from the very image the pod will use, as the pod runs nginx (its user, a
 * read-only root, /tmp a tmpfs), to check a config before anything starts.
 */
export function nginxTestArgs(image: string, configFile: string): string[] {
  return [
    'run', '--rm', '--network', 'none', '--read-only', '--user', `${IN_POD.uid}:${IN_POD.uid}`, '--tmpfs', '/tmp',
    '--volume', `${configFile}:${IN_POD.nginxConfig}:ro`,
    '--entrypoint', IN_POD.nginxBinary,
    image, '-t', '-q', '-e', 'stderr', '-c', IN_POD.nginxConfig,
  ];
}

/** podman's own unit generator, writing `pod-<pod>.service` and one unit per container into the working directory. */
export function generateSystemdArgs(pod: string): string[] {
  return ['generate', 'systemd', '--files', '--name', '--restart-policy', 'always', pod];
}
