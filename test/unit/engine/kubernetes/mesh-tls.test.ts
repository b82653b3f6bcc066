import { describe, expect, it } from 'vitest';
import { runsCertificates } from '../../../../src/engine/kubernetes/mesh-tls.js';
import { namespaceExistsArgs, podProxyGetArgs } from '../../../../src/engine/kubernetes/kubectl-args.js';

/** Envoy's /certs, trimmed to what podvoy reads: one entry per TLS context. */
const certs = (...contexts: [ca: string, leaf: string][]) =>
  JSON.stringify({
    certificates: contexts.map(([ca, leaf]) => ({
      ca_cert: [{ path: '/etc/podvoy/mesh-tls/trust-0.pem', serial_number: ca, subject_alt_names: [] }],
      cert_chain: [{ path: '/etc/podvoy/mesh-tls/1.cert.pem', serial_number: leaf }],
    })),
  });

describe('following a CA rotation on a cluster', () => {
  it.each<[string, string, boolean]>([
    ['a context of the new CA and leaf', certs(['0a1b', '77'], ['1c2d', '99']), true],
    ['serials in other cases and with leading zeros', certs(['1C2D', '0099']), true],
    ['only the old CA', certs(['0a1b', '99']), false],
    ['the new CA with an old leaf', certs(['1c2d', '77']), false],
    ['no context yet', JSON.stringify({ certificates: [] }), false],
    [
      'the new CA second in a trust bundle of two',
      JSON.stringify({ certificates: [{ ca_cert: [{ serial_number: '0a1b' }, { serial_number: '1c2d' }], cert_chain: [{ serial_number: '99' }] }] }),
      true,
    ],
  ])('reads from /certs whether Envoy runs them: %s', (_, json, runs) => {
    expect(runsCertificates(json, { caSerial: '1c2d', leafSerial: '99' })).toBe(runs);
  });

  it('asks a pod through the apiserver', () => {
    expect(podProxyGetArgs('podvoy-shop', 'api-7c9d-x2', 9902, '/certs')).toEqual(['get', '--raw', '/api/v1/namespaces/podvoy-shop/pods/api-7c9d-x2:9902/proxy/certs']);
    expect(namespaceExistsArgs('podvoy-shop')).toEqual(['get', 'namespace', 'podvoy-shop', '--ignore-not-found', '--output', 'name']);
  });
});
