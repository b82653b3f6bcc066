import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { play, systemdUnits, type PlayResult } from '../../src/index.js';
import { SpecError } from '../../src/errors.js';
import { cli, freePort, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { steadyLoad } from '../support/steady-load.js';

/**
 * Automatic HTTPS against a real ACME server: Pebble, with pebble-challtestsrv resolving the
 * test domains to 127.0.0.1, validating HTTP-01 on the gateway's published HTTP port.
 */
describe('the gateway with gateway.tls.acme', () => {
  const DOMAINS = ['blog.podvoy.test', 'www.podvoy.test'];
  let ws: Workspace;
  let name: string;
  let pebble: Pebble;
  let ports: { http: number; https: number };
  let specFile: string;
  let first: PlayResult;

  const spec = (directory: string, domains = DOMAINS) =>
    [
      `name: ${name}`,
      'gateway:',
      `  http: ${ports.http}`,
      `  https: ${ports.https}`,
      '  tls:',
      `    acme: {email: ops@podvoy.test, directory: "${directory}", domains: [${domains.join(', ')}]}`,
      '  routes:',
      ...DOMAINS.map((d) => `  - {host: ${d}, service: blog}`),
      'services:',
      '  blog:',
      '    static: ./site',
      '',
    ].join('\n');
  const playAcme = (options: { force?: boolean } = {}) => play(specFile, { roots: ws.roots, acme: { trust: pebble.apiCa, ...options } });

  /** The certificate chain the gateway presents for a name, and whether it verifies against `ca`. */
  const served = (servername: string, ca?: string) =>
    new Promise<{ leaf: X509Certificate; chain: X509Certificate[]; authorized: boolean; error?: string }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: ports.https, servername, ...(ca ? { ca } : {}), rejectUnauthorized: false }, () => {
        const chain: X509Certificate[] = [];
        for (let c = socket.getPeerCertificate(true); c && c.raw && !chain.some((x) => x.raw.equals(c.raw)); c = c.issuerCertificate) {
          chain.push(new X509Certificate(c.raw));
        }
        resolve({ leaf: chain[0]!, chain, authorized: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) });
        socket.end();
      });
      socket.once('error', reject);
    });
  const gatewayPid = async () => {
    const names = await podmanLines('ps', '--filter', `name=^${name}-gateway`, '--format', '{{.Names}}');
    const envoy = names.find((n) => n.endsWith('-envoy'))!;
    return (await podmanLines('inspect', '--format', '{{.State.Pid}}', envoy))[0];
  };
  const get = (host: string, port: number, path: string, secure: boolean, ca?: string) =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const request = (secure ? https : http).get(
        { host: '127.0.0.1', port, path, servername: host, headers: { host }, ...(ca ? { ca } : {}), agent: false, timeout: 5000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
        },
      );
      request.once('error', reject);
    });

  beforeAll(async () => {
    ws = await workspace('blog');
    name = uniqueName('acme');
    ports = { http: await freePort(), https: await freePort() };
    pebble = await startPebble({ httpPort: ports.http });
    specFile = await ws.writeSpec(spec(pebble.directory));
    first = await playAcme();
  });
  afterAll(async () => {
    await ws?.cleanup();
    await pebble?.close();
  });

  it('gets a certificate from Pebble in the first play, for both names', () => {
    expect(first.acme?.error).toBeUndefined();
    expect(first.acme).toMatchObject({ outcome: 'issued', domains: DOMAINS, certificate: { domains: DOMAINS } });
  });

  it.each(DOMAINS)('serves %s with a chain that verifies against Pebble’s root', async (domain) => {
    const root = await pebble.root();
    const { leaf, authorized, error } = await served(domain, root);
    expect({ authorized, error }).toEqual({ authorized: true });
    expect(leaf.subjectAltName).toContain(`DNS:${domain}`);
    expect(leaf.serialNumber.toLowerCase()).toBe(first.acme!.certificate!.serial);
    const res = await get(domain, ports.https, '/', true, root);
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('still redirects plain HTTP to HTTPS, and answers no challenge it was not given', async () => {
    const res = await get(DOMAINS[0]!, ports.http, '/posts/hello.html', false);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://${DOMAINS[0]}:${ports.https}/posts/hello.html`);
    expect((await get(DOMAINS[0]!, ports.http, '/.well-known/acme-challenge/abcdefghijklmnopqrstuvwxyz', false)).status).toBe(404);
  });

  it('shows issuer, expiry and the last attempt in `podvoy certs`, and `certs renew` leaves a fresh certificate be', async () => {
    const env = { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir };
    const c = first.acme!.certificate!;
    const listed = await cli(['certs', name], env);
    expect(listed.stdout).toContain(
      `gateway (ACME)  ${DOMAINS.join(', ')}  issuer ${c.issuer}  serial ${c.serial}  until ${c.notAfter}, renewed after ${c.renewAfter}\n` +
        `  last attempt ${first.acme!.lastAttempt!.at}: issued\n`,
    );
    expect(c.issuer).toMatch(/^Pebble Intermediate CA /);
    const renewed = await cli(['certs', 'renew', specFile], { ...env, NODE_EXTRA_CA_CERTS: '' });
    expect(renewed).toMatchObject({ code: 0 });
    expect(renewed.stdout).toContain(`serial ${c.serial}`);
  });

  it('writes a systemd timer that renews the ACME certificate too, from the spec file', async () => {
    const out = path.join(ws.dir, 'units');
    const units = await systemdUnits(specFile, { roots: ws.roots, outDir: out });
    expect(units.timer).toBe(`podvoy-certs-${name}.timer`);
    const service = await readFile(path.join(out, `podvoy-certs-${name}.service`), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(service)![1]!.split(' ');
    expect(execStart.slice(-3)).toEqual(['certs', 'renew', path.resolve(specFile)]);
    const env = Object.fromEntries([...service.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    // What systemd would run, from another directory: nothing is due, and the gateway's certificate is listed as it is.
    const { stdout } = await promisify(execFile)(execStart[0]!, execStart.slice(1), { cwd: '/', env: { ...process.env, ...env } });
    expect(stdout).toContain(`gateway (ACME)  ${DOMAINS.join(', ')}`);
    expect(stdout).toContain(`serial ${first.acme!.certificate!.serial}`);
  });

  it('orders a new certificate through the CLI (`certs renew --force`), the bundle loading acme-client on demand', async () => {
    const ca = path.join(ws.dir, 'pebble-api-ca.pem');
    await writeFile(ca, pebble.apiCa);
    const env = { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir, NODE_EXTRA_CA_CERTS: ca };
    const renewed = await cli(['certs', 'renew', '--force', specFile], env);
    expect(renewed).toMatchObject({ code: 0 });
    expect(renewed.stdout).toMatch(/^gateway \(ACME\) .* \(issued now\)$/m);
  });

  it('renews under constant load with no failed request, the same gateway process and a new serial on the wire', async () => {
    const root = await pebble.root();
    const pid = await gatewayPid();
    const before = (await served(DOMAINS[0]!, root)).leaf.serialNumber;
    const load = steadyLoad(4, async () => {
      const res = await get(DOMAINS[0]!, ports.https, '/', true, root);
      return res.status === 200 ? undefined : `answered ${res.status}`;
    });
    const renewed = await playAcme({ force: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await load.stop();
    expect(renewed.acme).toMatchObject({ outcome: 'issued' });
    expect(report.failures).toEqual([]);
    expect(report.sent).toBeGreaterThan(20);
    expect(await gatewayPid()).toBe(pid);
    const after = await served(DOMAINS[0]!, root);
    expect(after.authorized).toBe(true);
    expect(after.leaf.serialNumber).not.toBe(before);
    expect(after.leaf.serialNumber.toLowerCase()).toBe(renewed.acme!.certificate!.serial);
  });

  it('keeps serving the certificate it has when Pebble is down, says why, and a later play gets a new one', async () => {
    const root = await pebble.root();
    const serial = (await served(DOMAINS[0]!, root)).leaf.serialNumber;
    await pebble.stop();
    const failed = await playAcme({ force: true });
    expect(failed.acme?.outcome).toBe('failed');
    expect(failed.acme?.error).toMatch(
      new RegExp(`^The ACME server ${escape(pebble.directory)} did not issue a certificate for ${DOMAINS.join(', ')}: .*ECONNREFUSED.*\\. The gateway keeps serving the certificate it has \\(serial ${serial.toLowerCase()}, until .*\\)\\.`),
    );
    expect(failed.acme?.lastAttempt).toMatchObject({ ok: false });
    expect(failed.acme?.retryAfter).toBeDefined();
    const still = await served(DOMAINS[0]!, root);
    expect({ serial: still.leaf.serialNumber, authorized: still.authorized }).toEqual({ serial, authorized: true });

    await pebble.start();
    const again = await playAcme({ force: true });
    expect(again.acme).toMatchObject({ outcome: 'issued', lastAttempt: { ok: true } });
    expect((await served(DOMAINS[0]!, await pebble.root())).authorized).toBe(true);
  });

  it('reports a challenge answered wrongly in the ACME server’s words and keeps the certificate', async () => {
    const root = await pebble.root();
    const serial = (await served(DOMAINS[0]!, root)).leaf.serialNumber;
    // www now resolves to another loopback address, where a server answers every token wrongly.
    const impostor = http.createServer((_req, res) => res.end('not the key authorization'));
    await new Promise<void>((resolve) => impostor.listen(ports.http, '127.0.0.2', resolve));
    await pebble.setAddress(DOMAINS[1]!, '127.0.0.2');
    try {
      const wrong = await playAcme({ force: true });
      expect(wrong.acme?.outcome).toBe('failed');
      expect(wrong.acme?.error).toMatch(/did not issue a certificate for blog\.podvoy\.test, www\.podvoy\.test: .*key authorization.*The gateway keeps serving the certificate it has/);
      const still = await served(DOMAINS[0]!, root);
      expect({ serial: still.leaf.serialNumber, authorized: still.authorized }).toEqual({ serial, authorized: true });
    } finally {
      await pebble.clearAddress(DOMAINS[1]!);
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it('refuses a wildcard domain with acme at validation', async () => {
    const file = await ws.writeSpec(spec(pebble.directory, ['"*.podvoy.test"']));
    const error = await play(file, { roots: ws.roots }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toContain(
      'gateway.tls.acme.domains[0]: "*.podvoy.test" is a wildcard: HTTP-01, the challenge the gateway answers, cannot prove one',
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
