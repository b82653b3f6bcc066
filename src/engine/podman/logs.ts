import { NotDeployedError } from '../../errors.js';
import { containerName } from '../../mesh/names.js';
import { podman } from './podman.js';
import { podLogsArgs } from './args.js';
import { listPods } from './pods.js';

export interface LogsOptions {
  /** nginx, envoy or app; all of the pod's containers when unset. */
  readonly container?: string;
  readonly follow?: boolean;
  readonly tail?: number;
}

/** Shows the logs of every pod of a spec (with `container`, of those that hold it) on our stdout/stderr. */
export async function showLogs(specName: string, options: LogsOptions): Promise<void> {
  const pods = await listPods(specName);
  if (!pods.length) throw new NotDeployedError(`Nothing of spec "${specName}" is deployed. Run \`podvoy play\` first.`);
  const { container } = options;
  // A static service's pod holds nginx, an image service's app: ask only pods that have the container.
  const targets =
    container === undefined
      ? pods
      : pods.filter((pod) => pod.containers.some((c) => c.name === containerName(pod.name, container)));
  if (!targets.length) {
    const existing = [...new Set(pods.flatMap((pod) => pod.containers.map((c) => c.name.slice(pod.name.length + 1))))];
    throw new NotDeployedError(
      `No pod of spec "${specName}" has a container "${container}". Use one of: ${existing.sort().join(', ')}.`,
    );
  }
  await Promise.all(
    targets.map((pod) =>
      podman(
        podLogsArgs(pod.name, {
          ...(container === undefined ? {} : { container: containerName(pod.name, container) }),
          follow: options.follow,
          tail: options.tail,
        }),
        { inherit: true },
      ),
    ),
  );
}
