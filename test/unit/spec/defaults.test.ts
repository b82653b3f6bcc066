import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../src/spec/defaults.js';
import { DEFAULTS } from '../../../src/spec/model.js';
import type { RawSpec } from '../../../src/spec/raw.js';

const at = { absFile: '/srv/x/podvoy.yaml', dir: '/srv/x' };

describe('applyDefaults', () => {
  it('fills in every default of a minimal spec', () => {
    const raw: RawSpec = {
      name: 'x',
      services: [
        { name: 'web', app: { kind: 'static', root: '/srv/x/site' }, sidecar: {} },
        { name: 'api', app: { kind: 'image', image: 'ghcr.io/x/api:1', port: 3000 }, sidecar: { publish: { hostPort: 8080 } } },
      ],
      gateway: { http: { hostPort: 80 }, routes: [{ backends: [{ service: 'web', weight: 100 }] }] },
    };
    expect(applyDefaults(raw, at)).toEqual({
      name: 'x',
      file: at.absFile,
      dir: at.dir,
      images: {},
      services: [
        {
          name: 'web',
          replicas: 1,
          sidecar: { port: DEFAULTS.sidecarPort },
          upstreams: [],
          health: DEFAULTS.health,
          app: { kind: 'static', root: '/srv/x/site', port: DEFAULTS.staticPort, proxy: [] },
        },
        {
          name: 'api',
          replicas: 1,
          sidecar: { port: DEFAULTS.sidecarPort, publish: { hostIP: DEFAULTS.publishHost, hostPort: 8080 } },
          upstreams: [],
          health: DEFAULTS.health,
          app: { kind: 'image', image: 'ghcr.io/x/api:1', port: 3000, env: {} },
        },
      ],
      gateway: {
        http: { hostIP: DEFAULTS.publishHost, hostPort: 80 },
        hsts: true,
        maxConnections: DEFAULTS.maxConnections,
        routes: [
          {
            host: DEFAULTS.routeHost,
            prefix: DEFAULTS.routePrefix,
            backends: [{ service: 'web', weight: 100 }],
            timeoutMs: DEFAULTS.routeTimeoutMs,
            retries: DEFAULTS.routeRetries,
          },
        ],
      },
    });
  });

  it('keeps what the spec gives, falsy values included', () => {
    const raw: RawSpec = {
      name: 'x',
      services: [{ name: 'web', app: { kind: 'static', root: '/s', port: 8081, proxy: [] }, sidecar: { port: 10001 }, replicas: 3, health: '/h' }],
      gateway: {
        http: { hostIP: '0.0.0.0', hostPort: 80 },
        hsts: false,
        maxConnections: 5,
        routes: [{ host: 'a.b', prefix: '/p/', backends: [{ service: 'web', weight: 0 }], timeoutMs: 1, retries: 0 }],
      },
    };
    const spec = applyDefaults(raw, at);
    expect(spec.gateway).toMatchObject({ hsts: false, maxConnections: 5, http: { hostIP: '0.0.0.0' } });
    expect(spec.gateway!.routes[0]).toMatchObject({ host: 'a.b', prefix: '/p/', timeoutMs: 1, retries: 0 });
    expect(spec.services[0]).toMatchObject({ replicas: 3, health: '/h', sidecar: { port: 10001 }, app: { port: 8081 } });
  });
});
