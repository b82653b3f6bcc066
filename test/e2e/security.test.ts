import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet } from '../../src/engine/envoy/http.js';
import { statValue } from '../../src/engine/envoy/admin.js';
import { podPaths } from '../../src/mesh/layout.js';
import { play, type PlayResult } from '../../src/index.js';
import { freePort, podmanJson, uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { rawGet, rawRequest } from '../support/raw-http.js';

const exec = promisify(execFile);

interface Inspect {
  Name: string;
  Config: { User: string };
  EffectiveCaps: string[] | null;
  HostConfig: { ReadonlyRootfs: boolean; SecurityOpt: string[] | null; RestartPolicy: { Name: string } };
  Mounts: { Destination: string; RW: boolean }[];
}

/** What podvoy guarantees by default, checked on a played mesh with hostile requests. */
describe('security defaults', () => {
  let ws: Workspace;
  let name: string;
  let ports: { http: number; https: number; blog: number };
  let played: PlayResult;
  const gateway = () => ({ host: '127.0.0.1', port: ports.https, tls: true });
  const blogSidecar = () => ({ host: '127.0.0.1', port: ports.blog });
  const gatewayPod = () => played.services.find((s) => s.service === 'gateway')!.pod;

  beforeAll(async () => {
    ws = await workspace('mesh');
    name = uniqueName('sec');
    ports = { http: await freePort(), https: await freePort(), blog: await freePort() };
    const site = path.join(ws.dir, 'blog');
    await writeFile(path.join(site, '.env'), 'SECRET=1\n');
    await mkdir(path.join(site, '.git'));
    await writeFile(path.join(site, '.git/config'), '[core]\n');
    await mkdir(path.join(site, 'drafts'));
    await writeFile(path.join(site, 'drafts/unlisted.html'), 'draft\n');
    await symlink('/etc/passwd', path.join(site, 'passwd'));
    const file = await ws.writeSpec(
      [
        `name: ${name}`,
        'gateway:',
        `  http: ${ports.http}`,
        `  https: ${ports.https}`,
        '  maxConnections: 3',
        '  routes:',
        '  - {prefix: /api/, service: api}',
        '  - {prefix: /, service: blog}',
        'services:',
        '  blog:',
        '    static: ./blog',
        `    sidecar: {publish: ${ports.blog}}`,
        '  api:',
        '    static: ./api',
        '    health: /api/posts.json',
        '',
      ].join('\n'),
    );
    played = await play(file, { roots: ws.roots });
  });
  afterAll(async () => ws.cleanup());

  it('runs every container with no capabilities, no-new-privileges, a read-only root and a restart policy', async () => {
    const names = (await exec('podman', ['ps', '--filter', `name=^${name}-`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    const containers = await podmanJson<Inspect[]>('container', 'inspect', ...names.filter((n) => !n.endsWith('-infra')));
    expect(containers.map((c) => c.Name.replace(/-[0-9a-f]{8}-/, '-*-')).sort()).toEqual(
      [`${name}-api-*-envoy`, `${name}-api-*-nginx`, `${name}-blog-*-envoy`, `${name}-blog-*-nginx`, `${name}-gateway-*-envoy`].sort(),
    );
    for (const c of containers) {
      expect({ name: c.Name, user: c.Config.User, caps: c.EffectiveCaps ?? [], readOnly: c.HostConfig.ReadonlyRootfs }).toEqual({
        name: c.Name,
        user: '101:101',
        caps: [],
        readOnly: true,
      });
      expect(c.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(c.HostConfig.RestartPolicy.Name).toBe('always');
    }
    const nginx = containers.filter((c) => c.Name.endsWith('-nginx'));
    for (const c of nginx) expect(c.Mounts.find((m) => m.Destination === '/srv/site')).toMatchObject({ RW: false });
  });

  it.each([
    ['a dotfile', '/.env', 404],
    ['a .git directory', '/.git/config', 404],
    ['encoded traversal', '/%2e%2e/%2e%2e/etc/passwd', 400],
    ['plain traversal', '/css/../../etc/passwd', 400],
    ['a doubled slash', '//etc/passwd', 404],
    ['a symlink out of the site', '/passwd', 404],
    ['a directory without index (no listing)', '/drafts/', 403],
  ])('nginx refuses %s: %s answers %i', async (_what, urlPath, status) => {
    const res = await rawRequest(blogSidecar(), rawGet(urlPath));
    expect(res.status).toBe(status);
    expect(res.text).not.toContain('root:x:0:0');
    expect(res.text).not.toContain('SECRET');
    expect(res.text).not.toContain('unlisted.html');
  });

  it.each([
    ['normalizes /x/../ before routing', rawGet('/x/../api/posts.json'), 200],
    ['merges slashes before routing', rawGet('//api//posts.json'), 200],
    ['rejects an escaped slash', rawGet('/api%2Fposts.json'), 400],
    ['rejects a header name with an underscore', rawGet('/', { x_user: 'admin' }), 400],
    ['rejects 40 KiB of headers', rawGet('/', { 'x-big': 'a'.repeat(40 * 1024) }), 431],
    [
      'rejects more than 100 headers',
      rawGet('/', Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-h${i}`, '1']))),
      431,
    ],
  ])('the gateway %s', async (_what, request, status) => {
    expect((await rawRequest(gateway(), request)).status).toBe(status);
  });

  it('logs the client address Envoy saw, not the X-Forwarded-For a client claims', async () => {
    const marker = `/posts/mesh.html?probe=${Math.random().toString(36).slice(2)}`;
    expect((await rawRequest(gateway(), rawGet(marker, { 'x-forwarded-for': '6.6.6.6' }))).status).toBe(200);
    await expect
      .poll(async () => (await exec('podman', ['logs', `${gatewayPod()}-envoy`])).stdout.split('\n').find((l) => l.includes(marker)), {
        timeout: 5000,
        interval: 200,
      })
      .toBeTruthy();
    const line = (await exec('podman', ['logs', `${gatewayPod()}-envoy`])).stdout.split('\n').find((l) => l.includes(marker))!;
    const [, client, xff] = /^\[[^\]]+\] (\S+) .* xff="([^"]*)"/.exec(line)!;
    expect(client).not.toBe('6.6.6.6');
    expect(xff).toBe(`6.6.6.6,${client}`);
  });

  it('closes a connection whose headers do not arrive in time', async () => {
    const started = Date.now();
    const res = await rawRequest(gateway(), 'GET / HTTP/1.1\r\nhost: localhost\r\n', 20_000);
    expect(res.status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
  }, 30_000);

  it('refuses connections past gateway.maxConnections', async () => {
    const socket = podPaths(ws.roots, name, gatewayPod()).adminSocket;
    const overflowBefore = await statValue(socket, `listener.0.0.0.0_8443.downstream_global_cx_overflow`);
    const open = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            const s = tls.connect({ host: '127.0.0.1', port: ports.https, rejectUnauthorized: false }, () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    try {
      const fourth = await new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: ports.https, rejectUnauthorized: false }, () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
      });
      expect(fourth).not.toBe('connected');
      expect(await statValue(socket, `listener.0.0.0.0_8443.downstream_global_cx_overflow`)).toBeGreaterThan(overflowBefore);
    } finally {
      open.forEach((s) => s.destroy());
    }
  });

  it('runs the gateway under the overload manager', async () => {
    const res = await adminGet(podPaths(ws.roots, name, gatewayPod()).adminSocket, '/config_dump?mask=bootstrap');
    const text = res.body.toString();
    expect(text).toContain('envoy.resource_monitors.fixed_heap');
    expect(text).toContain('envoy.overload_actions.stop_accepting_requests');
    expect(text).toContain('"max_active_downstream_connections": "3"');
  });

  it('keeps the TLS key out of every rendered file and log, readable by the container user alone', async () => {
    const stateDir = path.join(ws.roots.stateDir, name);
    const files = (await readdir(stateDir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    // Keys live in tls/ and, for the mesh's mTLS, as key files of pki/; every other file is rendered.
    const isKey = (file: string) => file.startsWith(path.join(stateDir, 'tls')) || (file.startsWith(path.join(stateDir, 'pki')) && /(^|[.-])key\.pem$/.test(path.basename(file)));
    const rendered = files.filter((f) => !isKey(path.join(f.parentPath, f.name)));
    expect(rendered.length).toBeGreaterThan(5);
    for (const f of rendered) expect(await readFile(path.join(f.parentPath, f.name), 'utf8')).not.toContain('PRIVATE KEY');
    const key = await stat(path.join(stateDir, 'tls/key.pem'));
    expect({ mode: (key.mode & 0o777).toString(8), uid: key.uid }).toEqual({ mode: '400', uid: 101 });
    expect(((await stat(path.join(stateDir, 'tls'))).mode & 0o777).toString(8)).toBe('700');
    expect(((await stat(stateDir)).mode & 0o777).toString(8)).toBe('700');
    const logs = await exec('podman', ['logs', `${gatewayPod()}-envoy`]);
    expect(logs.stdout + logs.stderr).not.toContain('PRIVATE KEY');
  });
});
