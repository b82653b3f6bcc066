import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CertificateError } from '../../../src/errors.js';
import { createCa, issueLeaf, leafValidity, loadCa } from '../../../src/engine/pki/x509.js';
import { renderSdsCertificate, renderSdsTrust, upstreamTransportSocket } from '../../../src/render/mesh-tls.js';
import { sdsFileNames } from '../../../src/engine/pki/store.js';
import { ensureMeshCertificates, identityFiles } from '../../../src/engine/pki/index.js';
import { SDS_RENDERER } from '../../../src/render/mesh-tls.js';
import { caDir, meshIdentities } from '../../../src/mesh/identity.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

describe('mesh certificates', () => {
  it('makes an ECDSA P-256 CA and leaves that carry only their SPIFFE ID, for clients and servers', async () => {
    const caPair = await createCa('podvoy mesh shop', new Date('2026-01-01T00:00:00Z'));
    const ca = new X509Certificate(caPair.cert);
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const now = new Date();
    const leaf = await issueLeaf(await loadCa(caPair, 'ca.pem'), { spiffeId: 'spiffe://shop.podvoy/svc/api', ...leafValidity(now, 3_600_000) });
    const cert = new X509Certificate(leaf.cert);
    expect(cert.subjectAltName).toBe('URI:spiffe://shop.podvoy/svc/api');
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.serialNumber.toLowerCase()).toBe(leaf.serial);
    expect(Date.parse(cert.validTo)).toBe(Math.floor((now.getTime() + 3_600_000) / 1000) * 1000);
    // openssl agrees: the chain verifies for TLS clients and servers alike.
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage,keyUsage,basicConstraints'], { input: leaf.cert }).toString();
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/CA:FALSE/);
  });

  it.each<[string, () => Promise<{ cert: string; key: string }>, RegExp]>([
    ['a key of another CA', async () => ({ cert: (await createCa('a')).cert, key: (await createCa('b')).key }), /the key does not belong to the CA certificate/],
    [
      'a certificate that is not a CA',
      async () => {
        const ca = await createCa('a');
        return issueLeaf(await loadCa(ca, 'x'), { spiffeId: 'spiffe://x.podvoy/svc/y', ...leafValidity(new Date(), 3_600_000) });
      },
      /the certificate is not a CA/,
    ],
    ['no PEM at all', async () => ({ cert: 'hello', key: 'world' }), /cannot be read/],
  ])('refuses a user CA with %s', async (_, pair, message) => {
    await expect(loadCa(await pair(), 'ca.pem')).rejects.toThrow(CertificateError);
    await expect(loadCa(await pair(), 'ca.pem')).rejects.toThrow(message);
  });

  it('signs with an RSA CA of the user', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'podvoy-pki-'));
    try {
      const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileSync(path.join(dir, 'key.pem'), key);
      const args = ['req', '-x509', '-key', path.join(dir, 'key.pem'), '-subj', '/CN=own', '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE'];
      const cert = execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const leaf = await issueLeaf(await loadCa({ cert, key }, 'ca.pem'), { spiffeId: 'spiffe://x.podvoy/svc/y', ...leafValidity(new Date(), 3_600_000) });
      expect(new X509Certificate(leaf.cert).verify(new X509Certificate(cert).publicKey)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders SDS files that name files only, versioned by their content', () => {
    const a = renderSdsCertificate({ cert: '1.cert.pem', key: '1.key.pem' });
    expect(a.text).toContain('"filename": "/etc/podvoy/mesh-tls/1.key.pem"');
    expect(a.text).not.toMatch(/BEGIN|inline/);
    expect(renderSdsCertificate({ cert: '2.cert.pem', key: '2.key.pem' }).version).not.toBe(a.version);
    expect(renderSdsTrust('trust-x.pem').text).toMatch(/"trusted_ca": \{\n +"filename": "\/etc\/podvoy\/mesh-tls\/trust-x\.pem"/);
  });

  it('reads back which files an SDS file names, so that the others can go', () => {
    expect(sdsFileNames(renderSdsCertificate({ cert: 'ab.cert.pem', key: 'ab.key.pem' }).text)).toEqual({ cert: 'ab.cert.pem', key: 'ab.key.pem' });
    expect(sdsFileNames(renderSdsTrust('trust-1.pem').text)).toEqual({ trust: 'trust-1.pem' });
    expect(sdsFileNames('')).toEqual({});
    // As an earlier release wrote them: block YAML, read by the YAML parser.
    const blockYaml = 'version_info: "1"\nresources:\n- "@type": x\n  name: mesh-trust\n  validation_context:\n    trusted_ca:\n      filename: /etc/podvoy/mesh-tls/trust-0.pem\n';
    expect(sdsFileNames(blockYaml)).toEqual({ trust: 'trust-0.pem' });
  });

  it("checks the callee's SPIFFE ID on every upstream connection", () => {
    expect(JSON.stringify(upstreamTransportSocket('shop', 'api'))).toContain('"match_typed_subject_alt_names":[{"san_type":"URI","matcher":{"exact":"spiffe://shop.podvoy/svc/api"}}]');
  });
});

describe('identities for a cluster', () => {
  const plan = {
    specName: 'shop',
    identities: meshIdentities(parseSpec('name: shop\ngateway: {http: 8080, routes: [{service: api}]}\nservices: {api: {image: "x:1", port: 3000}}\n', 'k.yaml', fakeHost('/srv/k'))),
    lifetimeMs: 24 * 3_600_000,
  };

  it('makes and renews them without podman, and hands out each identity\'s files but never the CA key', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'podvoy-pki-'));
    const roots = { stateDir, runDir: path.join(stateDir, 'run') };
    try {
      const first = await ensureMeshCertificates(plan, { roots, sds: SDS_RENDERER, envoys: 'none' });
      expect(first.renewed).toEqual(['gateway', 'api', 'podvoy']);
      expect(first.certificates.every((c) => c.envoys.length === 0)).toBe(true);
      const files = await identityFiles('shop', 'api', roots);
      const serial = first.certificates.find((c) => c.identity === 'api')!.serial;
      expect(Object.keys(files)).toEqual(['sds-certificate.yaml', `${serial}.cert.pem`, `${serial}.key.pem`, 'sds-trust.yaml', expect.stringMatching(/^trust-[0-9a-f]{12}\.pem$/)]);
      expect(new X509Certificate(files[`${serial}.cert.pem`]!).subjectAltName).toBe('URI:spiffe://shop.podvoy/svc/api');
      const caKey = readFileSync(path.join(caDir(roots, 'shop'), 'ca-key.pem'), 'utf8');
      expect(Object.values(files).join('')).not.toContain(caKey.split('\n')[1]);

      // Past half its life, the next run issues a new leaf; the files handed out follow it.
      const later = await ensureMeshCertificates(plan, { roots, sds: SDS_RENDERER, envoys: 'none', now: () => new Date(Date.now() + 13 * 3_600_000) });
      expect(later.renewed).toEqual(['gateway', 'api', 'podvoy']);
      const renewed = await identityFiles('shop', 'api', roots);
      const next = later.certificates.find((c) => c.identity === 'api')!.serial;
      expect(next).not.toBe(serial);
      expect(Object.keys(renewed)).toContain(`${next}.cert.pem`);
      expect(Object.keys(renewed)).not.toContain(`${serial}.cert.pem`);
      expect(renewed['sds-trust.yaml']).toBe(files['sds-trust.yaml']);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('hands each step of a CA rotation to `publish` before it takes the next', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'podvoy-pki-'));
    const roots = { stateDir, runDir: path.join(stateDir, 'run') };
    try {
      const first = await ensureMeshCertificates(plan, { roots, sds: SDS_RENDERER, envoys: 'none', publish: async () => expect.unreachable() });
      const serials = (r: typeof first) => Object.fromEntries(r.certificates.filter((c) => c.identity !== 'podvoy').map((c) => [c.identity, c.serial]));
      const own = await createCa('own');
      writeFileSync(path.join(stateDir, 'own.pem'), own.cert);
      writeFileSync(path.join(stateDir, 'own-key.pem'), own.key);
      const steps: { kind: string; caSerial: string; leaves: Record<string, string>; trust: string }[] = [];
      const rotated = await ensureMeshCertificates(
        { ...plan, ca: { cert: path.join(stateDir, 'own.pem'), key: path.join(stateDir, 'own-key.pem') } },
        {
          roots,
          sds: SDS_RENDERER,
          envoys: 'none',
          publish: async (step) => {
            const files = await identityFiles('shop', 'api', roots);
            steps.push({ ...step, trust: Object.entries(files).find(([k]) => k.startsWith('trust-'))![1] });
          },
        },
      );
      const ownSerial = new X509Certificate(own.cert).serialNumber.toLowerCase();
      const oldCa = first.ca.fingerprint;
      expect(steps.map((s) => [s.kind, s.caSerial])).toEqual([['trust', ownSerial], ['certificates', ownSerial]]);
      // First both roots with the old leaves, then the new leaves; the old root goes last.
      expect(steps[0]!.leaves).toEqual(serials(first));
      expect(steps[1]!.leaves).toEqual(serials(rotated));
      expect(Object.values(steps[1]!.leaves).some((s) => Object.values(serials(first)).includes(s))).toBe(false);
      expect(steps.map((s) => s.trust.match(/BEGIN CERTIFICATE/g)!.length)).toEqual([2, 2]);
      expect((await identityFiles('shop', 'api', roots))[Object.keys(await identityFiles('shop', 'api', roots)).find((k) => k.startsWith('trust-'))!]).toBe(`${own.cert.trimEnd()}\n`);
      expect(rotated.ca.fingerprint).not.toBe(oldCa);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses an identity whose certificates were never made', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'podvoy-pki-'));
    try {
      await expect(identityFiles('shop', 'api', { stateDir, runDir: stateDir })).rejects.toThrow(CertificateError);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
