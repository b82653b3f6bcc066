import { describe, expect, it } from 'vitest';
import { EngineCommandError, KubeApplyError, KubeRolloutError, KubeUnreachableError, KubeVersionError, KubernetesRenderError, PodvoyError } from '../../src/errors.js';
import { exitCodeOf } from '../../src/cli/errors.js';

describe('Kubernetes error messages', () => {
  it.each<[() => PodvoyError, string, string, number]>([
    [
      () => new KubeVersionError('v1.28.9', 'v1.30'),
      'KubeVersionError',
      'The cluster runs Kubernetes v1.28.9; podvoy needs v1.30 or newer, for native sidecars (init containers with restartPolicy: Always, 1.29) ' +
        'and the preStop sleep that drains a pod (1.30). Nothing was applied. Upgrade the cluster, or use another context.',
      1,
    ],
    [
      () => new KubeUnreachableError('context c1', 'dial tcp 127.0.0.1:6443: connect: connection refused', 'Start the cluster.'),
      'KubeUnreachableError',
      'Cannot reach the cluster of context c1: dial tcp 127.0.0.1:6443: connect: connection refused. Nothing was applied. Start the cluster.',
      1,
    ],
    [
      () => new KubeRolloutError('podvoy-mesh', 'blog', 180_000, ['pod blog-1: crash loop: container nginx restarted 3 times.'], ['deployment.apps/blog', 'service/blog']),
      'KubeRolloutError',
      'Deployment blog in namespace podvoy-mesh did not roll out within 180 s:\n' +
        '  pod blog-1: crash loop: container nginx restarted 3 times.\n' +
        'What exists in podvoy-mesh now: deployment.apps/blog, service/blog.\n' +
        'Fix the cause and apply again, or remove it all with `podvoy kube delete <spec>`.',
      1,
    ],
    [
      () => new KubernetesRenderError('examples/x/podvoy.yaml', [{ path: 'gateway.http', message: 'binds to the host address 10.0.0.1.' }]),
      'KubernetesRenderError',
      'examples/x/podvoy.yaml has a feature a Kubernetes cluster cannot run the same way:\n  gateway.http: binds to the host address 10.0.0.1.',
      2,
    ],
    [
      () => new KubeApplyError('podvoy-mesh', new EngineCommandError(['kubectl', 'apply'], 1, 'error: bad'), ['configmap/blog-config']),
      'KubeApplyError',
      '`kubectl apply` failed (exit 1):\n    error: bad\nWhat exists in podvoy-mesh now: configmap/blog-config.\n' +
        'Fix the cause and apply again, or remove it all with `podvoy kube delete <spec>`.',
      1,
    ],
  ])('%#: %s', (make, name, message, exitCode) => {
    const error = make();
    expect([error.name, error.message, exitCodeOf(error)]).toEqual([name, message, exitCode]);
  });
});
