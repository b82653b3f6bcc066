import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diff, down, play, status, type PlayResult, type RolloutDiff } from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { clusterStatuses } from '../../src/engine/envoy/admin.js';
import { waitForFiles, writeMeshFiles } from '../../src/engine/envoy/mesh-sync.js';
import { MeshFileRejectedError } from '../../src/errors.js';
import { podPaths } from '../../src/mesh/layout.js';
import { freePort, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';

const exec = promisify(execFile);
/** The gateway's certificate is self-signed: the tests trust it by not verifying it. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function get(url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(url, { dispatcher: insecure });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

/** The mesh example, played for real: a gateway Envoy, two services with sidecars, on one podman network. */
describe('the mesh example', () => {
  let ws: Workspace;
  let name: string;
  let ports: { http: number; https: number };
  let file: string;
  let first: PlayResult;
  let blogSeesApi: [string, boolean[]][];
  const https = (p: string) => `https://127.0.0.1:${ports.https}${p}`;

  /** The example's spec with this test's name and ports, and optional edits. */
  const specText = async (edit: (text: string) => string = (t) => t) => {
    const text = await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8');
    return edit(text.replace(/^name: .*$/m, `name: ${name}`).replace('http: 8081', `http: ${ports.http}`).replace('https: 8443', `https: ${ports.https}`));
  };
  const withSplit = (blog: number, api: number) => (text: string) =>
    text.replace('  routes:\n', `  routes:\n  - prefix: /whoami.txt\n    split: {blog: ${blog}, api: ${api}}\n`);
  const envoyPids = async () => {
    const names = await podmanLines('ps', '--filter', `name=^${name}-`, '--format', '{{.Names}}');
    const envoys = names.filter((n) => n.endsWith('-envoy')).sort();
    return Object.fromEntries(await Promise.all(envoys.map(async (n) => [n, (await podmanLines('inspect', '--format', '{{.State.Pid}}', n))[0]])));
  };
  const gatewayStatus = async () => (await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'gateway')!;
  /** What a diff promises, in the terms a play result reports. */
  const promised = (plan: RolloutDiff) => ({
    outcomes: plan.pods
      .filter((p) => p.action !== 'retire')
      .map((p) => [p.service, { unchanged: 'unchanged', create: 'created', replace: 'replaced', restart: 'started' }[p.action as 'create']])
      .sort(),
    meshChanges: plan.meshFiles.map((f) => path.join(ws.roots.stateDir, name, f.path)).sort(),
  });
  const done = (result: PlayResult) => ({ outcomes: result.services.map((s) => [s.service, s.outcome]).sort(), meshChanges: [...result.meshChanges].sort() });

  beforeAll(async () => {
    ws = await workspace('mesh');
    name = uniqueName('mesh');
    ports = { http: await freePort(), https: await freePort() };
    file = await ws.writeSpec(await specText());
    first = await play(file, { roots: ws.roots });
    // At once: play returns only when every Envoy sees the hosts it routes to healthy.
    const blogPod = first.services.find((s) => s.service === 'blog')!.pod;
    blogSeesApi = (await clusterStatuses(podPaths(ws.roots, name, blogPod).adminSocket)).filter((c) => c.name === 'service_api').map((c) => [c.name, c.hosts.map((h) => h.healthy)]);
  });
  afterAll(async () => ws.cleanup());

  it('returns from play only once a sidecar calling an upstream sees it healthy', () => {
    expect(blogSeesApi).toEqual([['service_api', [true]]]);
  });

  it('starts the gateway and both services', () => {
    expect(first.services.map((s) => [s.service, s.outcome])).toEqual([
      ['blog', 'created'],
      ['api', 'created'],
      ['gateway', 'created'],
    ]);
    expect(first.services.at(-1)!.url).toBe(`https://127.0.0.1:${ports.https}/`);
  });

  it('routes to both services through the gateway over TLS, with HSTS', async () => {
    const index = await get(https('/'));
    expect(index.status).toBe(200);
    expect(index.body).toBe(await readFile(path.join(ws.dir, 'blog/index.html'), 'utf8'));
    expect(index.headers['strict-transport-security']).toBe('max-age=31536000');
    const posts = await get(https('/api/posts.json'));
    expect(posts.status).toBe(200);
    expect(JSON.parse(posts.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8')));
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const res = await request(`http://127.0.0.1:${ports.http}/posts/mesh.html`);
    await res.body.dump();
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${ports.https}/posts/mesh.html`);
  });

  it('negotiates HTTP/2 with the browser side', async () => {
    const session = http2.connect(https('/'), { rejectUnauthorized: false });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('lets the blog call the api sidecar to sidecar', async () => {
    const before = await status(name, { roots: ws.roots });
    const apiBefore = before.envoys.find((e) => e.service === 'api')!.requests;
    const res = await get(https('/blog-api/posts.json'));
    expect(res.status).toBe(200);
    expect(res.body).toBe(await readFile(path.join(ws.dir, 'api/blog-api/posts.json'), 'utf8'));
    const blogSidecar = (await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'blog')!;
    expect(blogSidecar.clusters.map((c) => c.name)).toEqual(['service_api']);
    expect(blogSidecar.clusters[0]!.hosts.some((h) => h.healthy && h.requests > 0)).toBe(true);
    expect((await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'api')!.requests).toBeGreaterThan(apiBefore);
  });

  it('applies a weight change without restarting any Envoy, and the split follows the weights', async () => {
    const pids = await envoyPids();
    const versionBefore = (await gatewayStatus()).versions.routes;
    await ws.writeSpec(await specText(withSplit(75, 25)));
    const plan = await diff(file, { roots: ws.roots });
    expect(plan.envoys).toEqual({ starting: [], stopping: [] });
    expect(plan.meshFiles.map((f) => f.path)).toEqual(['xds/gateway/rds.yaml']);
    expect(plan.meshFiles[0]!.patch).toMatch(/^\+ +"weight": 25$/m);
    const changed = await play(file, { roots: ws.roots });
    expect(done(changed)).toEqual(promised(plan));
    expect(await diff(file, { roots: ws.roots })).toMatchObject({ changes: false, meshFiles: [] });
    expect(changed.services.every((s) => s.outcome === 'unchanged')).toBe(true);
    expect(changed.meshChanges.map((f) => path.basename(f))).toEqual(['rds.yaml']);
    const versionAfter = (await gatewayStatus()).versions.routes;
    expect(versionAfter).not.toBe(versionBefore);
    expect(await envoyPids()).toEqual(pids);

    const counts = { blog: 0, api: 0 };
    for (let i = 0; i < 400; i++) counts[(await get(https('/whoami.txt'))).body.trim() as 'blog' | 'api']++;
    // 400 draws at p = 0.25: the mean is 100 and the standard deviation 8.7; 4 sigma either side.
    expect(counts.api).toBeGreaterThan(65);
    expect(counts.api).toBeLessThan(135);
    expect(counts.blog + counts.api).toBe(400);

    await ws.writeSpec(await specText(withSplit(0, 100)));
    await play(file, { roots: ws.roots });
    for (let i = 0; i < 20; i++) expect((await get(https('/whoami.txt'))).body.trim()).toBe('api');
    expect(await envoyPids()).toEqual(pids);
  });

  it('replaces a changed service under constant load without a failed request', async () => {
    const before = (await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'blog')!.pod;
    let stop = false;
    const results = { ok: 0, failed: [] as string[] };
    const load = async () => {
      while (!stop) {
        try {
          const res = await get(https('/posts/mesh.html'));
          if (res.status === 200) results.ok++;
          else results.failed.push(`status ${res.status}`);
        } catch (error) {
          results.failed.push((error as Error).message);
        }
      }
    };
    const loops = [load(), load(), load(), load()];
    // A changed nginx port changes the blog's pod: a new pod must start, register, take over.
    await ws.writeSpec(await specText((t) => withSplit(0, 100)(t).replace('    static: ./blog\n', '    static: ./blog\n    port: 8085\n')));
    const plan = await diff(file, { roots: ws.roots });
    expect(plan.pods.find((p) => p.action === 'replace')).toMatchObject({ service: 'blog', replaces: [before] });
    expect(plan.envoys.stopping).toEqual([before]);
    const replaced = await play(file, { roots: ws.roots });
    expect(done(replaced)).toEqual(promised(plan));
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await Promise.all(loops);
    expect(replaced.services.find((s) => s.service === 'blog')).toMatchObject({ outcome: 'replaced' });
    expect(replaced.services.find((s) => s.service === 'blog')!.pod).not.toBe(before);
    expect(results.failed).toEqual([]);
    expect(results.ok).toBeGreaterThan(50);
  });

  it('stops routing to a service whose app is down, and routes to it again once it is back', async () => {
    const api = (await status(name, { roots: ws.roots })).envoys.find((e) => e.service === 'api')!.pod;
    await exec('podman', ['stop', '-t', '0', `${api}-nginx`]);
    try {
      const apiHost = async () => (await gatewayStatus()).clusters.find((c) => c.name === 'service_api')!.hosts[0]!;
      await expect.poll(async () => (await apiHost()).healthy, { timeout: 15_000, interval: 200 }).toBe(false);
      expect(await apiHost()).toMatchObject({ hostname: api, failures: ['failed_active_health_check'] });
      // Ejected: the gateway answers itself, without sending the request to the api's pod.
      const refused = await get(https('/api/posts.json'));
      expect(refused.status).toBe(503);
      expect(refused.body).toBe('no healthy upstream');
    } finally {
      await exec('podman', ['start', `${api}-nginx`]);
    }
    await expect.poll(async () => (await get(https('/api/posts.json'))).status, { timeout: 15_000, interval: 200 }).toBe(200);
  });

  it('keeps the mesh directory consistent when two plays run at once', async () => {
    const runCli = (specFile: string) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin/podvoy.js'), 'play', specFile], {
          env: { ...process.env, PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir },
          stdio: 'ignore',
        });
        child.on('exit', (code) => resolve(code ?? 1));
      });
    const a = await ws.writeSpec(await specText(withSplit(10, 90)));
    const b = path.join(ws.dir, 'other.yaml');
    await exec('cp', [a, b]);
    await exec('sed', ['-i', 's/split: {blog: 10, api: 90}/split: {blog: 90, api: 10}/', b]);
    expect(await Promise.all([runCli(a), runCli(b)])).toEqual([0, 0]);
    const rds = await readFile(path.join(ws.roots.stateDir, name, 'xds/gateway/rds.yaml'), 'utf8');
    const parsed = parse(rds) as { version_info: string; resources: { virtual_hosts: { routes: { route: { weighted_clusters?: { clusters: { weight: number }[] } } }[] }[] }[] };
    const weights = parsed.resources[0]!.virtual_hosts[0]!.routes[0]!.route.weighted_clusters!.clusters.map((c) => c.weight);
    expect([[10, 90], [90, 10]]).toContainEqual(weights);
    expect((await gatewayStatus()).versions.routes).toBe(parsed.version_info);
  });

  it('fails at once, with what Envoy said, on a mesh file it refuses, and the gateway keeps its routes', async () => {
    const gateway = await gatewayStatus();
    const rdsPath = path.join(ws.roots.stateDir, name, 'xds/gateway/rds.yaml');
    const good = await readFile(rdsPath, 'utf8');
    const version = (parse(good) as { version_info: string }).version_info;
    // An unbalanced regular expression: valid YAML and a valid proto, refused by Envoy's RE2.
    const refused = good.replace(/^version_info: .*$/m, 'version_info: "refused"').replace('"prefix": "/api/"', '"safe_regex": { "regex": "(" }');
    expect(refused).toContain('safe_regex');
    const envoy = { envoy: 'gateway', pod: gateway.pod, socket: podPaths(ws.roots, name, gateway.pod).adminSocket };
    const file = { envoy: 'gateway', path: rdsPath, kind: 'routes' as const, version: 'refused', text: refused };
    const started = Date.now();
    try {
      const since = new Date();
      const error = await waitForFiles(await writeMeshFiles([file]), [envoy], 60_000, since).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MeshFileRejectedError);
      expect((error as Error).message).toContain('missing )');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await gatewayStatus()).versions.routes).toBe(version);
      expect((await get(https('/api/posts.json'))).status).toBe(200);
    } finally {
      const since = new Date();
      await waitForFiles(await writeMeshFiles([{ ...file, version, text: good }]), [envoy], 30_000, since);
    }
  });

  it('applies a mesh file whose resources did not change (one another podvoy release wrote) at once', async () => {
    const rdsPath = path.join(ws.roots.stateDir, name, 'xds/gateway/rds.yaml');
    // The routes of this test's spec (the race of two plays before may have left the other one's).
    await play(file, { roots: ws.roots });
    const current = await readFile(rdsPath, 'utf8');
    const { version_info: version, resources } = parse(current) as { version_info: string; resources: unknown[] };
    // The same routes in YAML's block style, under another version: Envoy accepts the file, but
    // its config dump keeps the version of the last real change.
    const older = `version_info: "older-release"\n${stringify({ resources })}`;
    const since = new Date();
    const gateway = await gatewayStatus();
    const envoy = { envoy: 'gateway', pod: gateway.pod, socket: podPaths(ws.roots, name, gateway.pod).adminSocket };
    await waitForFiles(await writeMeshFiles([{ envoy: 'gateway', path: rdsPath, kind: 'routes', version: 'older-release', text: older }]), [envoy], 10_000, since);
    expect((await gatewayStatus()).versions.routes).toBe('older-release');
    const again = await play(file, { roots: ws.roots, timeoutMs: 10_000 });
    expect(again.meshChanges).toEqual([rdsPath]);
    expect((await gatewayStatus()).versions.routes).toBe(version);
  });

  it('takes down one service while the rest keeps serving, then the whole mesh', async () => {
    const removed = await down(file, { roots: ws.roots, service: 'api' });
    expect(removed.pods).toHaveLength(1);
    expect((await get(https('/api/posts.json'))).status).toBe(503);
    expect((await get(https('/'))).status).toBe(200);

    await down(file, { roots: ws.roots });
    expect(await podmanLines('pod', 'ps', '--filter', `label=io.podvoy.spec=${name}`, '--format', '{{.Name}}')).toEqual([]);
    expect(await podmanLines('ps', '-a', '--filter', `name=^${name}-`, '--format', '{{.Names}}')).toEqual([]);
    expect((await podmanLines('network', 'ls', '--format', '{{.Name}}')).includes(`podvoy-${name}`)).toBe(false);
  });
});
