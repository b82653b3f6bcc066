import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { play, top } from '../../src/index.js';
import { freePort, uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { STATUS_APP, buildStatusApp, pacedLoad } from '../support/status-app.js';

/**
 * Seeing the mesh (issue 13) on a played mesh: a gateway, a static blog that calls the api
 * through its sidecar, and an api from an image that answers 500 at /fail.
 */
describe('seeing the mesh', () => {
  let ws: Workspace;
  let name: string;
  let http: number;

  beforeAll(async () => {
    await buildStatusApp();
    ws = await workspace('mesh');
    name = uniqueName('obs');
    http = await freePort();
    const file = await ws.writeSpec(
      [
        `name: ${name}`,
        'gateway:',
        `  http: ${http}`,
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
      const sent = load.sentBetween(from, to);
      const sentRps = sent.sent / ((to - from) / 1000);
      const sentSuccess = 1 - sent.failing / sent.sent;
      expect(sentRps).toBeGreaterThan(180);

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
});
