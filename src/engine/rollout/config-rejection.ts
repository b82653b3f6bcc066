import { EnvoyConfigError, NginxConfigError } from '../../errors.js';
import type { PodPaths } from '../../mesh/layout.js';
import { CONTAINERS, containerName } from '../../mesh/names.js';

/**
 * Whether a pod that did not start failed because its Envoy or nginx rejected the config podvoy
 * rendered, read from the pod's last log lines (`podman pod logs --names`: each line starts with
 * its container's name). A pod's own start is the check of its configs; this names the failure.
 */
export function configRejection(pod: string, paths: Pick<PodPaths, 'envoyConf' | 'nginxConf'>, logs: string): EnvoyConfigError | NginxConfigError | undefined {
  const linesOf = (container: string) => {
    const prefix = `${containerName(pod, container)} `;
    return logs.split('\n').filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
  };
  // Envoy: "error initializing configuration '<file>': ..." (1.40 also words it "... initializing config '<file>'").
  const envoy = linesOf(CONTAINERS.envoy);
  const envoyAt = envoy.findIndex((line) => /\[critical\].*initializing config/.test(line));
  if (envoyAt >= 0) return new EnvoyConfigError(paths.envoyConf, envoy.slice(envoyAt).join('\n'));
  // nginx: "[emerg] ... in <file>:<line>" names a line of its config; a bind failure names none.
  const nginx = linesOf(CONTAINERS.nginx).filter((line) => /\[emerg\].* in \S+:\d+/.test(line));
  if (nginx.length) return new NginxConfigError(paths.nginxConf, nginx.join('\n'));
  return undefined;
}
