import { describe, expect, it } from 'vitest';
import {
  allowedCallers,
  allowedPrincipals,
  meshIdentities,
  publishedPort,
  renewalDue,
  spiffeId,
} from '../../../src/mesh/identity.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const spec = parseSpec(
  [
    'name: shop',
    'gateway: {http: 8080, routes: [{service: blog}]}',
    'services:',
    '  blog: {static: ./blog, upstreams: {api: 9001}, sidecar: {publish: 8081}}',
    '  api: {static: ./api, allow: [gateway]}',
    '  auth: {static: ./auth, allow: []}',
    '',
  ].join('\n'),
  'shop/podvoy.yaml',
  fakeHost('/srv/shop'),
);

describe('mesh identities', () => {
  it.each([
    ['api', 'spiffe://shop.podvoy/svc/api'],
    ['gateway', 'spiffe://shop.podvoy/svc/gateway'],
    ['podvoy', 'spiffe://shop.podvoy/podvoy'],
  ])('names %s %s', (name, id) => {
    expect(spiffeId('shop', name)).toBe(id);
  });

  it('gives the gateway, every service and podvoy itself an identity; only Envoys serve theirs', () => {
    expect(meshIdentities(spec).map((i) => [i.name, i.envoy])).toEqual([
      ['gateway', true],
      ['blog', true],
      ['api', true],
      ['auth', true],
      ['podvoy', false],
    ]);
    expect(meshIdentities({ ...spec, mtls: undefined })).toEqual([]);
  });

  it('lets every member call a service without allow, by a prefix that leaves podvoy out', () => {
    const blog = spec.services.find((s) => s.name === 'blog')!;
    expect(allowedCallers(spec, blog)).toEqual(['gateway', 'api', 'auth']);
    expect(allowedPrincipals(spec, blog)).toEqual([{ kind: 'prefix', value: 'spiffe://shop.podvoy/svc/' }]);
  });

  it('lets only the listed callers call a service with allow', () => {
    expect(allowedPrincipals(spec, spec.services.find((s) => s.name === 'api')!)).toEqual([{ kind: 'exact', value: 'spiffe://shop.podvoy/svc/gateway' }]);
    expect(allowedPrincipals(spec, spec.services.find((s) => s.name === 'auth')!)).toEqual([]);
  });

  it('puts a published plain listener on the first port the pod does not use', () => {
    const blog = spec.services.find((s) => s.name === 'blog')!;
    expect(publishedPort(blog)).toBe(10001);
    expect(publishedPort({ ...blog, app: { ...blog.app, port: 10001 }, upstreams: [{ service: 'api', port: 10002 }] })).toBe(10003);
  });

  it.each([
    ['fresh', 0, false],
    ['just before half its life', 11.99, false],
    ['at half its life', 12, true],
    ['expired', 30, true],
  ])('renews a 24 h certificate %s', (_, hours, due) => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2026-01-02T00:00:00Z');
    expect(renewalDue(notBefore, notAfter, new Date(notBefore.getTime() + hours * 3_600_000))).toBe(due);
  });
});
