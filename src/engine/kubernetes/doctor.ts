import { EngineNotFoundError, KubeUnreachableError, KubeVersionError, PodvoyError } from '../../errors.js';
import type { Check } from '../podman/doctor.js';
import { checkServer } from './apply.js';
import { nodeImages, type NodeJson } from './cluster-state.js';
import { KUBECTL_INSTALL_HINT, kubectl } from './kubectl.js';
import { clientVersionArgs, getJsonArgs, type KubeTarget } from './kubectl-args.js';

/**
 * Checks what `kube apply` needs, in the order a failure would be met: kubectl, a reachable
 * context, a server of at least 1.30, and each image on a node or in a registry.
 */
export async function runKubeDoctor(target: KubeTarget, images: readonly string[]): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const client = JSON.parse((await kubectl(target, clientVersionArgs())).stdout) as { clientVersion?: { gitVersion?: string } };
    checks.push({ name: 'kubectl', ok: true, detail: client.clientVersion?.gitVersion ?? 'present' });
  } catch (error) {
    if (!(error instanceof EngineNotFoundError)) throw error;
    checks.push({ name: 'kubectl', ok: false, detail: 'not found on PATH', fix: KUBECTL_INSTALL_HINT });
    return checks;
  }
  try {
    const version = await checkServer(target);
    checks.push({ name: 'cluster', ok: true, detail: `reachable, Kubernetes ${version.gitVersion} (podvoy needs 1.30)` });
  } catch (error) {
    if (error instanceof KubeUnreachableError) {
      checks.push({ name: 'cluster', ok: false, detail: `${error.target}: ${error.reason}`, fix: error.fix });
      return checks;
    }
    if (error instanceof KubeVersionError) {
      checks.push({ name: 'cluster', ok: false, detail: `Kubernetes ${error.serverVersion}`, fix: 'podvoy needs 1.30 or newer (native sidecars, preStop sleep): upgrade the cluster, or use another context.' });
      return checks;
    }
    if (error instanceof PodvoyError) {
      checks.push({ name: 'cluster', ok: false, detail: error.message });
      return checks;
    }
    throw error;
  }
  const nodes = JSON.parse((await kubectl(target, getJsonArgs('nodes'))).stdout).items as NodeJson[];
  const present = nodeImages(nodes);
  for (const image of images) {
    const onNode = present.has(image);
    const local = image.startsWith('localhost/');
    checks.push(
      onNode
        ? { name: `image ${image}`, ok: true, detail: 'on a node' }
        : local
          ? {
              name: `image ${image}`,
              ok: false,
              detail: 'on no node (a kubelet lists an image about 30 s after its import), and no registry serves localhost/ images',
              fix:
                'Import it into each node\'s runtime (podman save IMAGE | ctr -n k8s.io images import -), or set kubernetes.registry and run `podvoy images build <spec> --push`.',
            }
          : { name: `image ${image}`, ok: true, detail: 'not on a node yet; the nodes pull it from its registry' },
    );
  }
  return checks;
}
