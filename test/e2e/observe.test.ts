import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { graph, play, ps, render, requestLogs, top, watchTop, type RequestHop, type TopReport } from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { cli, freePort, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { STATUS_APP, buildStatusApp, pacedLoad } from '../support/status-app.js';

/**
 * Seeing the mesh (issue 13) on a played mesh: a gateway, a static blog that calls the api
 * through its sidecar, and an api from an image that answers 500 at /fail.
 */
describe('seeing the mesh', () => {
  let ws: Workspace;
  let name: string;
  let http: number;
  let metrics: number;
  let file: string;

  beforeAll(async () => {
    await buildStatusApp();
    ws = await workspace('mesh');
    name = uniqueName('obs');
    http = await freePort();
    metrics = await freePort();
    file = await ws.writeSpec(
      [
        `name: ${name}`,
        'gateway:',
        `  http: ${http}`,
        `  metrics: ${metrics}`,
        '  routes:',
        '  - prefix: /blog/',
        '    service: blog',
        '  - prefix: /',
        '    service: api',
        'services:',
        '  blog:',
        '    static: ./blog',
        '    upstreams: {api: 9001}',
        '    proxy: {/blog-api/: api}',
        '  api:',
        `    image: ${STATUS_APP.image}`,
        `    port: ${STATUS_APP.port}`,
        '',
      ].join('\n'),
    );
    await play(file, { roots: ws.roots });
  });
  afterAll(async () => ws?.cleanup());

  it('top reports the req/s and success rate that were sent, within 10 %', async () => {
    const load = pacedLoad(`http://127.0.0.1:${http}`, 200, 10);
    try {
      // Past the first connections, then one window of 10 s.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const from = performance.now();
      const report = await top(name, { roots: ws.roots, windowMs: 10_000 });
      const to = performance.now();
      expect(load.sentBetween(from, to).sent / ((to - from) / 1000)).toBeGreaterThan(150);
      // What the client got answered within top's window (when Envoy counts a request).
      const { answered, failed } = load.answeredBetween(Date.parse(report.from), Date.parse(report.to));
      const sentRps = answered / report.windowSeconds;
      const sentSuccess = 1 - failed / answered;
      expect(failed / answered).toBeCloseTo(0.1, 1);

      const seen = report.rows.find((r) => r.service === 'api' && r.view === 'gateway')!;
      expect(seen.rps).toBeGreaterThan(sentRps * 0.9);
      expect(seen.rps).toBeLessThan(sentRps * 1.1);
      expect(seen.successRate!).toBeGreaterThan(sentSuccess * 0.9);
      expect(seen.successRate!).toBeLessThan(Math.min(1, sentSuccess * 1.1));
      expect(seen.latencyMs!.p50).toBeGreaterThan(0);
      expect(seen.connections).toBeGreaterThan(0);

      // The api's own sidecar saw the same traffic (and the gateway's health checks, ~1/s).
      const inbound = report.rows.find((r) => r.service === 'api' && r.view === 'inbound')!;
      expect(inbound.rps).toBeGreaterThan(sentRps * 0.9);
      expect(inbound.rps).toBeLessThan(sentRps * 1.1);
      expect(inbound.successRate!).toBeGreaterThan(sentSuccess * 0.9);
      expect(report.rows.map((r) => [r.service, r.view, r.from])).toEqual([
        ['api', 'gateway', 'gateway'],
        ['api', 'caller', 'blog'],
        ['api', 'inbound', 'api'],
        ['blog', 'gateway', 'gateway'],
        ['blog', 'inbound', 'blog'],
      ]);
    } finally {
      await load.stop();
    }
  });

  it('watchTop (top on a terminal) reports again at each refresh, over the time elapsed until a window has passed', async () => {
    const load = pacedLoad(`http://127.0.0.1:${http}`, 100, 10);
    const reports: TopReport[] = [];
    const stop = new AbortController();
    try {
      await watchTop(name, {
        roots: ws.roots,
        windowMs: 2000,
        refreshMs: 500,
        signal: stop.signal,
        onReport: (report) => {
          reports.push(report);
          if (reports.length === 6) stop.abort();
        },
      });
    } finally {
      await load.stop();
    }
    const windows = reports.map((r) => r.windowSeconds);
    // 0.5 s, 1 s, 1.5 s, 2 s, then a window of about 2 s at each refresh.
    expect(windows[0]).toBeLessThan(windows[3]!);
    for (const w of windows.slice(4)) expect(w).toBeGreaterThanOrEqual(1.9);
    // Sampling takes its time on a busy machine: the window slides, it does not grow.
    for (const w of windows.slice(4)) expect(w).toBeLessThan(6);
    expect(reports.at(-1)!.rows.find((r) => r.service === 'api' && r.view === 'gateway')!.rps).toBeGreaterThan(50);
  });

  it("serves each Envoy's /stats/prometheus, and no other admin path, on its pod's metrics port", async () => {
    const api = (await ps()).find((p) => p.spec === name && p.service === 'api')!;
    const [address] = await podmanLines('inspect', '--format', `{{(index .NetworkSettings.Networks "podvoy-${name}").IPAddress}}`, `${api.name}-envoy`);
    const scraped = await fetch(`http://${address}:15090/stats/prometheus`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="inbound"\} [0-9]+$/m);
    for (const [method, adminPath] of [['GET', '/stats'], ['GET', '/config_dump'], ['POST', '/quitquitquit'], ['POST', '/stats/prometheus'], ['GET', '/']]) {
      const res = await fetch(`http://${address}:15090${adminPath}`, { method });
      expect([method, adminPath, res.status]).toEqual([method, adminPath, 404]);
    }
    expect((await fetch(`http://127.0.0.1:${metrics}/stats/prometheus`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${metrics}/config_dump`)).status).toBe(404);
  });

  it("a real Prometheus, with the scrape configuration podvoy renders, sees the api's req/s as top does", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-prometheus-'));
    const files = await render(file, { roots: ws.roots });
    await writeFile(path.join(dir, 'prometheus.yml'), files.find((f) => f.path === 'prometheus.yml')!.content);
    const port = await freePort();
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => prometheus.once('exit', resolve));
    const load = pacedLoad(`http://127.0.0.1:${http}`, 200, 10);
    /** The value of the first series, or of the first with these labels. */
    const query = async (promql: string, labels: Record<string, string> = {}) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
      const json = res?.ok ? ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }) : undefined;
      const series = json?.data.result.find((r) => Object.entries(labels).every(([k, v]) => r.metric[k] === v));
      return series ? Number(series.value[1]) : undefined;
    };
    const apiRps = `sum(rate(envoy_cluster_upstream_rq_xx{job="${name}-gateway",envoy_cluster_name="service_api"}[30s]))`;
    const apiSuccess = `1 - sum(rate(envoy_cluster_upstream_rq_xx{job="${name}-gateway",envoy_cluster_name="service_api",envoy_response_code_class="5"}[30s])) / ${apiRps}`;
    try {
      // Three scrapes (10 s apart) under load, then the same 30 s in top and in PromQL.
      const deadline = Date.now() + 90_000;
      while (((await query(`count_over_time(envoy_cluster_upstream_rq_total{job="${name}-gateway",envoy_cluster_name="service_api"}[30s])`)) ?? 0) < 3) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const report = await top(name, { roots: ws.roots, windowMs: 30_000 });
      const seen = report.rows.find((r) => r.service === 'api' && r.view === 'gateway')!;
      const [rps, success] = [await query(apiRps), await query(apiSuccess)];
      expect(rps).toBeGreaterThan(seen.rps * 0.9);
      expect(rps).toBeLessThan(seen.rps * 1.1);
      expect(success).toBeGreaterThan(seen.successRate! * 0.9);
      expect(success).toBeLessThan(Math.min(1, seen.successRate! * 1.1));

      // Every query of the example Grafana dashboard answers for the api, as the gateway sees it.
      const dashboard = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/grafana-dashboard.json'), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = target.expr.replaceAll('$deployment', name).replaceAll('$__rate_interval', '30s');
          const value = await query(expr, { envoy_cluster_name: 'service_api', service: 'gateway' });
          expect([panel.title, Number.isFinite(value)]).toEqual([panel.title, true]);
        }
      }
    } finally {
      await load.stop();
      prometheus.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('graph draws the declared edges with the live req/s and success rate, and every pod', async () => {
    const load = pacedLoad(`http://127.0.0.1:${http}`, 100, 10);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const dot = await graph(file, { roots: ws.roots, format: 'dot', windowMs: 5000 });
      const edges = dot.split('\n').filter((l) => l.includes(' -> '));
      expect(edges).toHaveLength(3);
      const label = /"gateway" -> "api" \[label="\/ · ([0-9.]+) rps · ([0-9.]+)%"/.exec(dot);
      expect(Number(label?.[1])).toBeGreaterThan(80);
      expect(Number(label?.[2])).toBeGreaterThan(80);
      expect(Number(label?.[2])).toBeLessThan(100);
      for (const pod of (await ps()).filter((p) => p.spec === name)) expect(dot).toContain(`"pod:${pod.name}" [label="${pod.name}", shape=ellipse`);
      const svg = await graph(file, { roots: ws.roots, windowMs: 2000 });
      expect(svg.match(/<g id="edge[0-9]+" class="edge">/g)).toHaveLength(3);
    } finally {
      await load.stop();
    }
  });
});

/** `accessLog: json` on the mesh example: one request followed across every hop by its x-request-id. */
describe('following a request across hops', () => {
  let ws: Workspace;
  let name: string;
  let https: number;
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });

  beforeAll(async () => {
    ws = await workspace('mesh');
    name = uniqueName('trace');
    const [http, tls] = [await freePort(), await freePort()];
    https = tls;
    const text = (await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8'))
      .replace(/^name: .*$/m, `name: ${name}\naccessLog: json`)
      .replace('http: 8081', `http: ${http}`)
      .replace('https: 8443', `https: ${tls}`);
    await play(await ws.writeSpec(text), { roots: ws.roots });
  });
  afterAll(async () => {
    await ws?.cleanup();
    await insecure.close();
  });

  it('finds one request id on every hop, in order: gateway, blog sidecar, blog nginx calling out, api sidecar, api nginx', async () => {
    const res = await request(`https://127.0.0.1:${https}/blog-api/api/posts.json`, { dispatcher: insecure, headers: { 'x-request-id': 'forged-by-client' } });
    await res.body.text();
    const id = res.headers['x-request-id'] as string;
    // Made at the gateway: a client's own id is replaced.
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const where = (hops: RequestHop[]) => hops.map((h) => `${h.service}/${h.container}`);
    const expected = ['gateway/envoy', 'blog/envoy', 'blog/envoy', 'api/envoy', 'api/nginx', 'blog/nginx'];
    // nginx flushes its buffered log each second, Envoy its stdout: wait for both.
    let hops: RequestHop[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      hops = await requestLogs(name, id);
      if (hops.length >= expected.length) break;
    }
    expect(where(hops)).toEqual(expected);
    for (const { line } of hops) {
      expect(line).toEqual({
        time: expect.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}([0-9]{3})?Z$/),
        method: 'GET',
        path: '/blog-api/api/posts.json',
        status: expect.any(Number),
        duration: expect.any(Number),
        upstream: expect.any(String),
        request_id: id,
      });
    }
    // The CLI prints the same hops, one line each.
    const out = await cli(['logs', name, '--request', id], { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir });
    expect(out.stdout.trim().split('\n')).toHaveLength(expected.length);
  });
});

describe('top of a deployment that does not run', () => {
  it('says so, and what to do, with exit code 1', async () => {
    const name = uniqueName('none');
    const out = await cli(['top', name, '--window', '1s']);
    expect([out.code, out.stdout, out.stderr.trim()]).toEqual([1, '', `podvoy: Nothing of spec "${name}" is running. Run \`podvoy play\` first.`]);
  });
});
