import { NotDeployedError } from '../errors.js';
import { CONTAINERS, containerName } from '../mesh/names.js';
import { podman } from './podman.js';
import { podLogsArgs } from './podman-args.js';
import { listPods } from './pods.js';

export interface LogsOptions {
  /** nginx, envoy or app; all of the pod's containers when unset. */
  readonly container?: string;
  readonly follow?: boolean;
  readonly tail?: number;
}

/** Shows the logs of every pod of a spec on our stdout/stderr. */
export async function showLogs(specName: string, options: LogsOptions): Promise<void> {
  const known = Object.values(CONTAINERS) as string[];
  if (options.container && !known.includes(options.container)) {
    throw new NotDeployedError(`No container "${options.container}" in podvoy pods. Use one of: ${known.join(', ')}.`);
  }
  const pods = await listPods(specName);
  if (!pods.length) throw new NotDeployedError(`Nothing of spec "${specName}" is deployed. Run \`podvoy play\` first.`);
  await Promise.all(
    pods.map((pod) =>
      podman(
        podLogsArgs(pod.name, {
          ...(options.container ? { container: containerName(pod.name, options.container) } : {}),
          follow: options.follow,
          tail: options.tail,
        }),
        { inherit: true },
      ),
    ),
  );
}
