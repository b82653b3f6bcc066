import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/errors.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const FILE = 'shop/podvoy.yaml';
const DIR = '/srv/shop';
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
/** A mesh: a gateway (line 2), blog calling api; `top` lines go after the gateway, `api` lines in the api service (from line 9). */
const mesh = (top: string[], api: string[] = []): string =>
  yaml(
    'name: shop',
    'gateway: {http: 8080, routes: [{service: blog}]}',
    ...top,
    'services:',
    '  blog:',
    '    static: ./blog',
    '    upstreams: {api: 9001}',
    '  api:',
    '    static: ./api',
    ...api.map((l) => `    ${l}`),
  );

function parse(text: string) {
  return parseSpec(text, FILE, fakeHost(DIR));
}

function messageOf(text: string): string {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof SpecError) return error.message;
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('mtls and allow', () => {
  it('turns mTLS on in a mesh by default, with 24 h certificates, and every member allowed', () => {
    const spec = parse(mesh([]));
    expect(spec.mtls).toEqual({ lifetimeMs: 24 * 3_600_000 });
    expect(spec.services.map((s) => s.allow)).toEqual([undefined, undefined]);
  });

  it('turns it on for upstreams alone, without a gateway', () => {
    const spec = parse(yaml('name: shop', 'services:', '  blog: {static: ./blog, upstreams: {api: 9001}}', '  api: {static: ./api}'));
    expect(spec.mtls).toEqual({ lifetimeMs: 24 * 3_600_000 });
  });

  it('leaves a spec without a mesh alone', () => {
    expect(parse(yaml('name: shop', 'services:', '  web: {static: ./site}')).mtls).toBeUndefined();
    expect(parse(yaml('name: shop', 'mtls: false', 'services:', '  web: {static: ./site}')).mtls).toBeUndefined();
  });

  it.each<[string, string[], object | undefined]>([
    ['false', ['mtls: false'], undefined],
    ['true', ['mtls: true'], { lifetimeMs: 86_400_000 }],
    ['a lifetime in hours', ['mtls: {lifetime: 12h}'], { lifetimeMs: 12 * 3_600_000 }],
    ['a lifetime in minutes', ['mtls: {lifetime: 90m}'], { lifetimeMs: 90 * 60_000 }],
    ['a lifetime in days', ['mtls: {lifetime: 7d}'], { lifetimeMs: 7 * 86_400_000 }],
    ['the user CA', ['mtls: {ca: {cert: ./ca/ca.pem, key: ./ca/ca-key.pem}}'], { ca: { cert: `${DIR}/ca/ca.pem`, key: `${DIR}/ca/ca-key.pem` }, lifetimeMs: 86_400_000 }],
  ])('reads mtls: %s', (_, top, expected) => {
    expect(parse(mesh(top)).mtls).toEqual(expected);
  });

  it('reads allow', () => {
    expect(parse(mesh([], ['allow: [gateway, blog]'])).services.find((s) => s.name === 'api')!.allow).toEqual(['gateway', 'blog']);
    expect(parse(mesh([], ['allow: []'])).services.find((s) => s.name === 'api')!.allow).toEqual([]);
  });

  it.each<[string, string, string]>([
    ['mtls of the wrong type', mesh(['mtls: yes please']), 'shop/podvoy.yaml:3:7: mtls: Must be true, false or a map (ca, lifetime), not the string "yes please".'],
    ['an unknown key in mtls', mesh(['mtls: {lifetme: 1h}']), 'shop/podvoy.yaml:3:8: mtls.lifetme: Unknown key "lifetme". Did you mean "lifetime"?'],
    ['a lifetime without a unit', mesh(['mtls: {lifetime: 24}']), 'shop/podvoy.yaml:3:18: mtls.lifetime: Must be a lifetime such as 24h, 90m or 7d, not the number 24.'],
    ['a lifetime too short', mesh(['mtls: {lifetime: 5m}']), 'shop/podvoy.yaml:3:18: mtls.lifetime: 5m is out of range. Use a lifetime from 10m to 365d.'],
    ['a lifetime too long', mesh(['mtls: {lifetime: 400d}']), 'shop/podvoy.yaml:3:18: mtls.lifetime: 400d is out of range. Use a lifetime from 10m to 365d.'],
    ['a CA without its key', mesh(['mtls: {ca: {cert: ./ca.pem}}']), 'shop/podvoy.yaml:3:12: mtls.ca: Missing required key "key". Add the CA private key file (PEM), e.g. key: ./ca/ca-key.pem.'],
    ['a CA outside the spec folder', mesh(['mtls: {ca: {cert: ../ca.pem, key: ./ca-key.pem}}']), 'shop/podvoy.yaml:3:19: mtls.ca.cert: ../ca.pem does not exist or is not a file. Create it or fix the path.'],
    ['mtls without a mesh', yaml('name: shop', 'mtls: true', 'services:', '  web: {static: ./site}'), 'shop/podvoy.yaml:2:1: mtls: mtls applies only to a mesh, whose Envoys call each other. Add a gateway or upstreams, or remove mtls.'],
    ['allow without a mesh', yaml('name: shop', 'services:', '  web: {static: ./site, allow: [web2]}', '  web2: {static: ./site}'), 'shop/podvoy.yaml:3:25: services.web.allow: allow applies only to a mesh. Add a gateway or upstreams, or remove allow.'],
    ['allow with mtls: false', mesh(['mtls: false'], ['allow: [gateway]']), 'shop/podvoy.yaml:10:5: services.api.allow: allow is checked on certificates, and mtls is false. Remove mtls: false, or remove allow.'],
    ['an unknown service in allow', mesh([], ['allow: [gateway, shop]']), 'shop/podvoy.yaml:9:22: services.api.allow[1]: No service "shop". Allow gateway or one of: blog, api.'],
    ['a service twice in allow', mesh([], ['allow: [blog, blog]']), 'shop/podvoy.yaml:9:19: services.api.allow[1]: "blog" is listed twice. Remove one.'],
    ['the service itself in allow', mesh([], ['allow: [api]']), 'shop/podvoy.yaml:9:13: services.api.allow[0]: A service does not call itself through its sidecar. Remove "api".'],
    ['a number in allow', mesh([], ['allow: [3]']), 'shop/podvoy.yaml:9:13: services.api.allow[0]: Must be a service name or gateway, not the number 3.'],
    ['allow that is not a list', mesh([], ['allow: gateway']), 'shop/podvoy.yaml:9:12: services.api.allow: Must be a list (items starting with "- "), not the string "gateway".'],
    [
      'gateway in allow without a gateway',
      yaml('name: shop', 'services:', '  blog: {static: ./blog, upstreams: {api: 9001}}', '  api: {static: ./api, allow: [gateway]}'),
      'shop/podvoy.yaml:4:32: services.api.allow[0]: The spec has no gateway. Remove gateway from allow, or add a gateway.',
    ],
  ])('rejects %s', (_, text, message) => {
    expect(messageOf(text)).toBe(`The spec has a problem:\n  ${message}`);
  });
});
