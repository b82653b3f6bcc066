import { describe, expect, it } from 'vitest';
import { clusterName, upstreamListenerName } from '../../../src/mesh/contract.js';
import { containerName, gatewayPodName, networkName, podName, serviceContainers, serviceUrl } from '../../../src/mesh/names.js';

describe('names', () => {
  it.each([
    ['a network per spec', networkName({ name: 'blog' }), 'podvoy-blog'],
    ['a pod per service and revision', podName({ name: 'blog' }, { name: 'web' }, '1a2b3c4d'), 'blog-web-1a2b3c4d'],
    ['replicas numbered from 1', podName({ name: 'blog' }, { name: 'web' }, '1a2b3c4d', 2), 'blog-web-1a2b3c4d-2'],
    ['the gateway pod', gatewayPodName({ name: 'mesh' }, '00ff00ff'), 'mesh-gateway-00ff00ff'],
    ['containers as kube play names them', containerName('blog-web-1a2b3c4d', 'envoy'), 'blog-web-1a2b3c4d-envoy'],
    ['a cluster per service', clusterName('api'), 'service_api'],
    ['a loopback listener per upstream', upstreamListenerName('api'), 'upstream_api'],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('lists the app container first', () => {
    expect(serviceContainers({ app: { kind: 'static', root: '/s', port: 8080, proxy: [] } })).toEqual(['nginx', 'envoy']);
    expect(serviceContainers({ app: { kind: 'image', image: 'x', port: 3000, env: {} } })).toEqual(['app', 'envoy']);
  });

  it.each([
    [undefined, undefined],
    [{ hostIP: '127.0.0.1', hostPort: 8080 }, 'http://127.0.0.1:8080/'],
    [{ hostIP: '0.0.0.0', hostPort: 80 }, 'http://127.0.0.1:80/'],
    [{ hostIP: '10.1.2.3', hostPort: 9000 }, 'http://10.1.2.3:9000/'],
  ])('prints the URL of a sidecar published at %o as %s', (publish, url) => {
    expect(serviceUrl({ sidecar: { port: 10000, ...(publish ? { publish } : {}) } })).toBe(url);
  });
});
