import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, leafValidity, loadCa } from '../../src/engine/pki/x509.js';
import { listMeshCertificates } from '../../src/engine/pki/index.js';
import { renderSdsCertificate } from '../../src/render/mesh-tls.js';
import { SDS_FILES, caDir, identityDir, spiffeId } from '../../src/mesh/identity.js';
import { play, render, renewCertificates, rotateCa, status, systemdUnits, type PlayResult } from '../../src/index.js';
import { cli, freePort, uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { addressOn, containerPid, curlOnNetwork, identityFiles, servedSerial } from '../support/mesh-tls.js';
import { freshMtlsGet, gatewayGet, steadyLoad } from '../support/steady-load.js';

const exec = promisify(execFile);

/**
 * A mesh with identity, on real pods: every hop is mTLS, the callee's sidecar decides who may
 * call, and certificates and the CA change under load without a failed request or a restart.
 */
describe('mTLS mesh', () => {
  let ws: Workspace;
  let name: string;
  let http: number;
  let played: PlayResult;
  let scratch: string;
  const network = () => `podvoy-${name}`;
  const podOf = (service: string) => played.services.find((s) => s.service === service)!.pod;
  const envoyOf = (service: string) => `${podOf(service)}-envoy`;
  const gatewayUrl = (p: string) => `http://127.0.0.1:${http}${p}`;

  beforeAll(async () => {
    ws = await workspace('mesh');
    name = uniqueName('mt');
    http = await freePort();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'podvoy-mtls-'));
    await mkdir(path.join(ws.dir, 'blog', 'to-blog'));
    await writeFile(path.join(ws.dir, 'blog', 'to-blog', 'hello.txt'), 'hello from the blog\n');
    const file = await ws.writeSpec(
      [
        `name: ${name}`,
        'gateway:',
        `  http: ${http}`,
        '  routes:',
        '  - {prefix: /api/, service: api}',
        '  - {prefix: /to-blog/, service: api}',
        '  - {prefix: /, service: blog}',
        'services:',
        '  blog:',
        '    static: ./blog',
        '    upstreams: {api: 9001}',
        '    proxy: {/blog-api/: api}',
        '  api:',
        '    static: ./api',
        '    health: /api/posts.json',
        '    allow: [gateway]',
        '    upstreams: {blog: 9002}',
        '    proxy: {/to-blog/: blog}',
        '',
      ].join('\n'),
    );
    played = await play(file, { roots: ws.roots });
  });
  afterAll(async () => {
    await ws.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it('makes a CA and a certificate per identity, with root-only keys', async () => {
    expect(played.mtls).toBe('on');
    expect(played.certificates!.certificates.map((c) => [c.identity, c.spiffeId])).toEqual([
      ['gateway', `spiffe://${name}.podvoy/svc/gateway`],
      ['blog', `spiffe://${name}.podvoy/svc/blog`],
      ['api', `spiffe://${name}.podvoy/svc/api`],
      ['podvoy', `spiffe://${name}.podvoy/podvoy`],
    ]);
    const key = await stat(path.join(caDir(ws.roots, name), 'ca-key.pem'));
    expect({ mode: key.mode & 0o777, uid: key.uid }).toEqual({ mode: 0o400, uid: 0 });
    expect((await stat(caDir(ws.roots, name))).mode & 0o777).toBe(0o700);
    const ca = new X509Certificate(await readFile(path.join(caDir(ws.roots, name), 'ca.pem')));
    expect(ca.ca).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const leaf = new X509Certificate(await readFile((await identityFiles(ws.roots, name, 'api')).cert));
    expect(leaf.subjectAltName).toBe(`URI:spiffe://${name}.podvoy/svc/api`);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(24 * 3_600_000 + 5 * 60_000);
  });

  it('serves through the gateway, whose health checks reach the sidecars over mTLS', async () => {
    for (const p of ['/', '/api/posts.json']) expect((await fetch(gatewayUrl(p))).status).toBe(200);
    const st = await status(name, { roots: ws.roots });
    const gateway = st.envoys.find((e) => e.service === 'gateway')!;
    for (const cluster of gateway.clusters) expect(cluster.hosts.every((h) => h.healthy)).toBe(true);
  });

  it('lets a service in allow call (200) and answers 403 to one that is not, counted by status', async () => {
    const allowed = await fetch(gatewayUrl('/to-blog/hello.txt'));
    expect({ status: allowed.status, body: await allowed.text() }).toEqual({ status: 200, body: 'hello from the blog\n' });
    expect((await fetch(gatewayUrl('/blog-api/posts.json'))).status).toBe(403);
    const api = (await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'api')!;
    expect(api.denied).toBeGreaterThanOrEqual(1);
    const printed = await cli(['status', name], { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir });
    expect(printed.stdout).toMatch(new RegExp(`^api .*denied ${api.denied}`, 'm'));
  });

  it('refuses a container on the mesh network without a certificate: no TLS handshake, and no plain HTTP', async () => {
    // By address: the refusal must not hang on the network's DNS.
    const target = `${await addressOn(envoyOf('blog'), network())}:10000`;
    const withCert = await identityFiles(ws.roots, name, 'gateway');
    // The control: the same container with a mesh certificate gets through.
    const control = await curlOnNetwork(network(), ['-k', '-o', '/dev/null', '-w', '%{http_code}', '--cert', withCert.cert, '--key', withCert.key, `https://${target}/`], [withCert.cert, withCert.key]);
    expect(control).toMatchObject({ code: 0, stdout: '200' });
    const noCert = await curlOnNetwork(network(), ['-k', '-o', '/dev/null', '-w', '%{http_code}', `https://${target}/`]);
    // With TLS 1.3 the client learns of the refusal when it sends: an alert, a reset or a broken pipe; never an HTTP answer.
    expect({ failed: noCert.code !== 0, status: noCert.stdout }).toEqual({ failed: true, status: '000' });
    const plain = await curlOnNetwork(network(), ['-o', '/dev/null', '-w', '%{http_code}', `http://${target}/`]);
    expect({ failed: plain.code !== 0, status: plain.stdout }).toEqual({ failed: true, status: '000' });
  });

  it('refuses a certificate from another CA, even with a mesh SPIFFE ID', async () => {
    const stranger = await loadCa(await createCa('not the mesh'), 'test');
    const leaf = await issueLeaf(stranger, { spiffeId: spiffeId(name, 'gateway'), ...leafValidity(new Date(), 3_600_000) });
    const cert = path.join(scratch, 'stranger.pem');
    const key = path.join(scratch, 'stranger-key.pem');
    await writeFile(cert, leaf.cert);
    await writeFile(key, leaf.key, { mode: 0o644 });
    const url = `https://${await addressOn(envoyOf('api'), network())}:10000/api/posts.json`;
    const res = await curlOnNetwork(network(), ['-k', '-o', '/dev/null', '-w', '%{http_code}', '--cert', cert, '--key', key, url], [cert, key]);
    expect({ failed: res.code !== 0, status: res.stdout }).toEqual({ failed: true, status: '000' });
    const mesh = await identityFiles(ws.roots, name, 'gateway');
    const control = await curlOnNetwork(network(), ['-k', '-o', '/dev/null', '-w', '%{http_code}', '--cert', mesh.cert, '--key', mesh.key, url], [mesh.cert, mesh.key]);
    expect(control).toMatchObject({ code: 0, stdout: '200' });
  });

  it('renews every certificate under constant load: 0 failed requests, the same Envoys, the new serial on the wire', async () => {
    const envoys = ['gateway', 'blog', 'api'].map(envoyOf);
    const pids = await Promise.all(envoys.map(containerPid));
    const api = { host: await addressOn(envoyOf('api'), network()), port: 10000 };
    const before = await servedSerial(api.host, api.port, await identityFiles(ws.roots, name, 'gateway'));
    const load = steadyLoad(3, gatewayGet(gatewayUrl('/api/posts.json')));
    const direct = steadyLoad(1, freshMtlsGet(api.host, api.port, '/api/posts.json', () => identityFiles(ws.roots, name, 'gateway')));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const renewed = await renewCertificates(name, { roots: ws.roots, force: true });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const reports = [await load.stop(), await direct.stop()];
    expect(renewed.renewed).toEqual(['gateway', 'blog', 'api', 'podvoy']);
    expect(reports.map((r) => r.failures)).toEqual([[], []]);
    expect(reports.every((r) => r.sent > 20)).toBe(true);
    expect(await Promise.all(envoys.map(containerPid))).toEqual(pids);
    const after = await servedSerial(api.host, api.port, await identityFiles(ws.roots, name, 'gateway'));
    expect(after).not.toBe(before);
    expect(after).toBe(renewed.certificates.find((c) => c.identity === 'api')!.serial);
  });

  it('rotates the CA under constant load: 0 failed requests, and the old CA is trusted no more', async () => {
    const oldCa = await readFile(path.join(caDir(ws.roots, name), 'ca.pem'), 'utf8');
    const oldGateway = await identityFiles(ws.roots, name, 'gateway');
    // A copy of the gateway's current certificate, from the old CA, to try once the rotation is over.
    const kept = { cert: path.join(scratch, 'old-gateway.pem'), key: path.join(scratch, 'old-gateway-key.pem') };
    await writeFile(kept.cert, await readFile(oldGateway.cert));
    await writeFile(kept.key, await readFile(oldGateway.key), { mode: 0o644 });
    const pids = await Promise.all(['gateway', 'blog', 'api'].map((s) => containerPid(envoyOf(s))));
    const api = { host: await addressOn(envoyOf('api'), network()), port: 10000 };
    const load = steadyLoad(3, gatewayGet(gatewayUrl('/api/posts.json')));
    const viaBlog = steadyLoad(1, gatewayGet(gatewayUrl('/to-blog/hello.txt')));
    const direct = steadyLoad(1, freshMtlsGet(api.host, api.port, '/api/posts.json', () => identityFiles(ws.roots, name, 'gateway')));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rotated = await rotateCa(name, { roots: ws.roots });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const reports = [await load.stop(), await viaBlog.stop(), await direct.stop()];
    expect(reports.map((r) => r.failures)).toEqual([[], [], []]);
    expect(await Promise.all(['gateway', 'blog', 'api'].map((s) => containerPid(envoyOf(s))))).toEqual(pids);
    const newCa = await readFile(path.join(caDir(ws.roots, name), 'ca.pem'), 'utf8');
    expect(new X509Certificate(newCa).fingerprint256).not.toBe(new X509Certificate(oldCa).fingerprint256);
    expect(rotated.ca.fingerprint).toBe(new X509Certificate(newCa).fingerprint256);
    await expect(readFile(path.join(caDir(ws.roots, name), 'previous.pem'))).rejects.toThrow(/ENOENT/);
    const res = await curlOnNetwork(network(), ['-k', '-o', '/dev/null', '-w', '%{http_code}', '--cert', kept.cert, '--key', kept.key, `https://${api.host}:10000/api/posts.json`], [kept.cert, kept.key]);
    expect({ failed: res.code !== 0, status: res.stdout }).toEqual({ failed: true, status: '000' });
  });

  it('never shows the CA key: not in a rendered file, a log line or any command output', async () => {
    const keyPem = await readFile(path.join(caDir(ws.roots, name), 'ca-key.pem'), 'utf8');
    const body = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const der = Buffer.from(body, 'base64');
    const needles = [body, body.slice(20, 60), der.toString('hex').slice(40, 120)];
    const haystacks: [string, string][] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (full === caDir(ws.roots, name)) continue;
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) haystacks.push([full, await readFile(full, 'latin1')]);
      }
    };
    await walk(ws.roots.stateDir);
    const env = { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir };
    for (const args of [['render', path.join(ws.dir, 'podvoy.yaml')], ['status', name, '--json'], ['certs', name, '--json'], ['certs', name], ['logs', name, '--tail', '500']]) {
      const out = await cli(args, env);
      expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(0);
      haystacks.push([`podvoy ${args.join(' ')}`, out.stdout + out.stderr]);
    }
    haystacks.push(['render()', JSON.stringify(await render(path.join(ws.dir, 'podvoy.yaml'), { roots: ws.roots }))]);
    haystacks.push(['play()', JSON.stringify(played)]);
    expect(haystacks.length).toBeGreaterThan(15);
    for (const [where, text] of haystacks) for (const needle of needles) expect(text.includes(needle), where).toBe(false);
  });

  it('lists each identity, its expiry and the Envoys serving it', async () => {
    const out = await cli(['certs', name, '--json'], { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir });
    const listed = JSON.parse(out.stdout) as Awaited<ReturnType<typeof listMeshCertificates>>;
    expect(listed.certificates.map((c) => [c.identity, c.envoys])).toEqual([
      ['gateway', [podOf('gateway')]],
      ['blog', [podOf('blog')]],
      ['api', [podOf('api')]],
      ['podvoy', []],
    ]);
    for (const c of listed.certificates) expect(Date.parse(c.notAfter)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it('writes a systemd timer whose command renews what is due, and only that', async () => {
    const out = path.join(scratch, 'units');
    const units = await systemdUnits(name, { roots: ws.roots, outDir: out });
    expect(units.timer).toBe(`podvoy-certs-${name}.timer`);
    expect(await readFile(path.join(out, units.timer!), 'utf8')).toMatch(/^OnUnitActiveSec=1h$/m);
    const service = await readFile(path.join(out, `podvoy-certs-${name}.service`), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(service)![1]!.split(' ');
    expect(execStart.slice(-3)).toEqual(['certs', 'renew', name]);
    const env = Object.fromEntries([...service.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const before = await listMeshCertificates(name, { roots: ws.roots });
    // What systemd would run: nothing is due yet, so nothing changes.
    const { stdout } = await exec(execStart[0]!, execStart.slice(1), { env: { ...process.env, ...env } });
    expect(stdout).toContain(`api  spiffe://${name}.podvoy/svc/api  serial ${before.certificates.find((c) => c.identity === 'api')!.serial}`);
    expect(stdout).not.toContain('renewed now');
    expect((await listMeshCertificates(name, { roots: ws.roots })).certificates).toEqual(before.certificates);
  });

  it('renews an expired certificate on play', async () => {
    // Make the blog's certificate one that expired an hour ago, as if nothing had renewed it.
    const ca = await loadCa(
      {
        cert: await readFile(path.join(caDir(ws.roots, name), 'ca.pem'), 'utf8'),
        key: await readFile(path.join(caDir(ws.roots, name), 'ca-key.pem'), 'utf8'),
      },
      'test',
    );
    const expired = await issueLeaf(ca, { spiffeId: spiffeId(name, 'blog'), notBefore: new Date(Date.now() - 25 * 3_600_000), notAfter: new Date(Date.now() - 3_600_000) });
    const dir = identityDir(ws.roots, name, 'blog');
    const files = { cert: `${expired.serial}.cert.pem`, key: `${expired.serial}.key.pem` };
    await writeFile(path.join(dir, files.key), expired.key, { mode: 0o444 });
    await writeFile(path.join(dir, files.cert), expired.cert);
    const sds = path.join(dir, SDS_FILES.certificate);
    await writeFile(`${sds}.tmp`, renderSdsCertificate(files).text);
    await exec('mv', ['-f', `${sds}.tmp`, sds]);
    expect((await listMeshCertificates(name, { roots: ws.roots })).certificates.find((c) => c.identity === 'blog')!.serial).toBe(expired.serial);

    const again = await play(path.join(ws.dir, 'podvoy.yaml'), { roots: ws.roots });
    expect(again.services.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(again.certificates!.renewed).toEqual(['blog']);
    const blog = again.certificates!.certificates.find((c) => c.identity === 'blog')!;
    expect(blog.serial).not.toBe(expired.serial);
    expect(Date.parse(blog.notAfter)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    await expect.poll(async () => (await fetch(gatewayUrl('/'))).status, { timeout: 10_000 }).toBe(200);
  });
});

describe('a mesh with mtls: false', () => {
  let ws: Workspace;
  afterAll(async () => ws.cleanup());

  it('keeps plain HTTP between its Envoys, and play says so; turning mTLS on and off replaces the pods', async () => {
    ws = await workspace('mesh');
    const name = uniqueName('mp');
    const file = await ws.writeSpec(
      [
        `name: ${name}`,
        'mtls: false',
        'gateway:',
        `  http: ${await freePort()}`,
        '  routes: [{service: blog}]',
        'services:',
        "  blog: {static: ./blog, upstreams: {api: 9001}, proxy: {'/blog-api/': api}}",
        '  api: {static: ./api, health: /api/posts.json}',
        '',
      ].join('\n'),
    );
    const out = await cli(['play', file], { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("mTLS: off (mtls: false in the spec): traffic between the mesh's Envoys is plain HTTP");
    const pod = /\/blog: pod (\S+) /.exec(out.stdout)![1]!;
    const address = await addressOn(`${pod}-envoy`, `podvoy-${name}`);
    const plain = await curlOnNetwork(`podvoy-${name}`, ['-o', '/dev/null', '-w', '%{http_code}', `http://${address}:10000/`]);
    expect(plain).toMatchObject({ code: 0, stdout: '200' });

    // Turned on: the running Envoys have no secret to wait for, and are replaced by ones that do.
    await ws.writeSpec((await readFile(file, 'utf8')).replace('mtls: false\n', ''));
    const on = await play(file, { roots: ws.roots });
    expect(on.mtls).toBe('on');
    expect(on.services.map((s) => [s.service, s.outcome])).toEqual([['blog', 'replaced'], ['api', 'replaced'], ['gateway', 'replaced']]);
    expect(on.certificates!.certificates.find((c) => c.identity === 'blog')!.envoys).toEqual([on.services[0]!.pod]);
    const mtlsAddress = await addressOn(`${on.services[0]!.pod}-envoy`, `podvoy-${name}`);
    const refused = await curlOnNetwork(`podvoy-${name}`, ['-o', '/dev/null', '-w', '%{http_code}', `http://${mtlsAddress}:10000/`]);
    expect(refused.stdout).not.toBe('200');
    const url = on.services.find((s) => s.service === 'gateway')!.url!;
    expect((await fetch(url)).status).toBe(200);
    // The blog's sidecar calls the api's over mTLS now.
    expect((await fetch(`${url}blog-api/posts.json`)).status).toBe(200);

    // And off again.
    await ws.writeSpec((await readFile(file, 'utf8')).replace(`name: ${name}\n`, `name: ${name}\nmtls: false\n`));
    const off = await play(file, { roots: ws.roots });
    expect(off.services.map((s) => [s.service, s.outcome])).toEqual([['blog', 'replaced'], ['api', 'replaced'], ['gateway', 'replaced']]);
    const plainAgain = await curlOnNetwork(`podvoy-${name}`, ['-o', '/dev/null', '-w', '%{http_code}', `http://${await addressOn(`${off.services[0]!.pod}-envoy`, `podvoy-${name}`)}:10000/`]);
    expect(plainAgain).toMatchObject({ code: 0, stdout: '200' });
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${url}blog-api/posts.json`)).status).toBe(200);
  });
});

describe('a mesh with its own CA', () => {
  let ws: Workspace;
  afterAll(async () => ws.cleanup());

  it('signs with the spec CA, and rotates to another one under load when the spec names it: 0 failed requests', async () => {
    ws = await workspace('mesh');
    const name = uniqueName('mc');
    const http = await freePort();
    await mkdir(path.join(ws.dir, 'ca'));
    const makeCa = async (cn: string) => {
      const [cert, key] = [path.join(ws.dir, 'ca', `${cn}.pem`), path.join(ws.dir, 'ca', `${cn}-key.pem`)];
      await exec('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-days', '30',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', key, '-out', cert,
      ]);
      return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
    };
    const use = async (ca: { cert: string; key: string }) => {
      await writeFile(path.join(ws.dir, 'ca', 'ca.pem'), ca.cert);
      await writeFile(path.join(ws.dir, 'ca', 'ca-key.pem'), ca.key, { mode: 0o600 });
    };
    const [first, second] = [await makeCa('own-one'), await makeCa('own-two')];
    await use(first);
    const file = await ws.writeSpec(
      [
        `name: ${name}`,
        'mtls: {ca: {cert: ./ca/ca.pem, key: ./ca/ca-key.pem}, lifetime: 2h}',
        'gateway:',
        `  http: ${http}`,
        '  routes: [{service: blog}]',
        'services:',
        '  blog: {static: ./blog}',
        '',
      ].join('\n'),
    );
    const played = await play(file, { roots: ws.roots });
    expect(played.certificates!.ca).toMatchObject({ source: 'user', fingerprint: new X509Certificate(first.cert).fingerprint256 });
    const leaf = new X509Certificate(await readFile((await identityFiles(ws.roots, name, 'blog')).cert));
    expect(leaf.verify(new X509Certificate(first.cert).publicKey)).toBe(true);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(2 * 3_600_000 + 5 * 60_000);

    await use(second);
    const load = steadyLoad(3, gatewayGet(`http://127.0.0.1:${http}/`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await play(file, { roots: ws.roots });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await load.stop();
    expect(report.failures).toEqual([]);
    expect(report.sent).toBeGreaterThan(20);
    expect(again.services.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(again.certificates!.ca.fingerprint).toBe(new X509Certificate(second.cert).fingerprint256);
    expect(again.certificates!.renewed).toEqual(['gateway', 'blog', 'podvoy']);
    await expect(readFile(path.join(caDir(ws.roots, name), 'previous.pem'))).rejects.toThrow(/ENOENT/);
    const keyMode = (await stat(path.join(caDir(ws.roots, name), 'ca-key.pem'))).mode & 0o777;
    expect(keyMode).toBe(0o400);
  });
});
