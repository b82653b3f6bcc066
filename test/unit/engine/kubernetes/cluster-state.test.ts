import { describe, expect, it } from 'vitest';
import {
  isSupported,
  nodeAddress,
  nodeImages,
  parseServerVersion,
  serviceEndpoint,
  staleObjects,
  stuckReasons,
  type PodJson,
} from '../../../../src/engine/kubernetes/cluster-state.js';

describe('the server version', () => {
  it.each<[string, number, number, string, boolean]>([
    ['{"serverVersion":{"major":"1","minor":"34","gitVersion":"v1.34.4"}}', 1, 34, 'v1.34.4', true],
    ['{"serverVersion":{"major":"1","minor":"30+","gitVersion":"v1.30.3-eks-1"}}', 1, 30, 'v1.30.3-eks-1', true],
    ['{"serverVersion":{"major":"1","minor":"29","gitVersion":"v1.29.9"}}', 1, 29, 'v1.29.9', false],
    ['{"serverVersion":{"major":"1","minor":"28","gitVersion":"v1.28.9"}}', 1, 28, 'v1.28.9', false],
    ['{"serverVersion":{"major":"","minor":"","gitVersion":"v1.30.0"}}', 1, 30, 'v1.30.0', true],
  ])('%s', (json, major, minor, gitVersion, supported) => {
    const version = parseServerVersion(json)!;
    expect(version).toEqual({ major, minor, gitVersion });
    expect(isSupported(version)).toBe(supported);
  });

  it('is absent when only the client answered', () => {
    expect(parseServerVersion('{"clientVersion":{"major":"1"}}')).toBeUndefined();
  });
});

const pod = (name: string, status: PodJson['status']): PodJson => ({ metadata: { name }, status });
const notReady = [{ type: 'Ready', status: 'False' }];

describe('why a pod is stuck', () => {
  it.each<[string, PodJson, string]>([
    [
      'an image pull',
      pod('blog-1', {
        conditions: notReady,
        containerStatuses: [{ name: 'nginx', image: 'localhost/x:1', state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }],
      }),
      'pod blog-1: image pull (ErrImagePull): container nginx cannot get localhost/x:1: not found. Build and push it (podvoy images build <spec> --push), or import it into the nodes\' runtime.',
    ],
    [
      'a crash loop of the sidecar',
      pod('blog-2', {
        conditions: notReady,
        initContainerStatuses: [
          { name: 'envoy', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } },
        ],
      }),
      'pod blog-2: crash loop: container envoy restarted 4 times, last exit 1 (Error). See kubectl logs --previous -c envoy.',
    ],
    [
      'a failing probe',
      pod('blog-3', {
        conditions: notReady,
        initContainerStatuses: [{ name: 'envoy', ready: true, state: { running: {} } }],
        containerStatuses: [{ name: 'nginx', ready: false, state: { running: {} } }],
      }),
      'pod blog-3: probe: container nginx running but not ready (its readiness probe fails). See kubectl describe pod blog-3.',
    ],
    [
      'a missing secret',
      pod('gw', { conditions: notReady, containerStatuses: [{ name: 'envoy', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "gateway-tls" not found' } } }] }),
      'pod gw: CreateContainerConfigError: container envoy: secret "gateway-tls" not found',
    ],
    [
      'no node',
      pod('api-1', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/1 nodes are available: 1 Insufficient cpu.' }] }),
      'pod api-1: not scheduled: 0/1 nodes are available: 1 Insufficient cpu.',
    ],
  ])('%s', (_, stuck, reason) => {
    expect(stuckReasons([stuck])).toEqual([reason]);
  });

  it('leaves out ready and terminating pods', () => {
    const ready = pod('ok', { conditions: [{ type: 'Ready', status: 'True' }] });
    const going: PodJson = { metadata: { name: 'old', deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { conditions: notReady } };
    expect(stuckReasons([ready, going])).toEqual([]);
  });
});

describe('where a Service answers from outside', () => {
  const nodes = [
    { metadata: { name: 'n1' }, status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.5' }], images: [{ names: ['localhost/podvoy/envoy:1.40.0', 'sha256:ab'] }] } },
  ];

  it('reads the node address and images', () => {
    expect(nodeAddress(nodes)).toBe('10.0.0.5');
    expect(nodeImages(nodes).has('localhost/podvoy/envoy:1.40.0')).toBe(true);
  });

  it.each([
    ['a node port', { metadata: { name: 'gateway' }, spec: { type: 'NodePort', ports: [{ name: 'https', port: 8443, nodePort: 30443 }] } }, { host: '10.0.0.5', port: 30443 }],
    [
      'a load balancer',
      { metadata: { name: 'gateway' }, spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 8443, nodePort: 31000 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } },
      { host: '192.0.2.7', port: 8443 },
    ],
    ['a load balancer not assigned yet', { metadata: { name: 'gateway' }, spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 8443 }] } }, undefined],
  ])('%s', (_, service, endpoint) => {
    expect(serviceEndpoint(service, 'https', nodeAddress(nodes))).toEqual(endpoint);
  });
});

describe('what an apply removes', () => {
  it('is what carries the labels but was not applied, in the order it exists', () => {
    const owned = ['deployment.apps/api', 'deployment.apps/blog', 'service/api', 'service/blog', 'configmap/api-mesh', 'secret/api-mesh-tls'];
    const applied = ['deployment.apps/blog', 'service/blog', 'configmap/blog-mesh'];
    expect(staleObjects(owned, applied)).toEqual(['deployment.apps/api', 'service/api', 'configmap/api-mesh', 'secret/api-mesh-tls']);
  });

  it('is nothing when every object was applied again', () => {
    expect(staleObjects(['service/web', 'service/web-public'], ['service/web-public', 'service/web'])).toEqual([]);
  });
});
