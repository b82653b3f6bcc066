import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { down, play, render } from '../src/index.js';
import { podPaths, specStateDir } from '../src/mesh/layout.js';
import { GATEWAY, networkName } from '../src/mesh/names.js';
import { rssOf, type Rss } from './memory.js';
import { measureMeshChanges } from './mesh-change.js';
import { containerPids, freePort, median, now, podman, pollUntil, say, timed, uniqueName, workspace } from './support.js';

/**
 * Meshes of N static services behind one gateway (each service its own route prefix): the
 * library's render, play from nothing, a route change (a /whoami.txt route to the last service,
 * added and removed in turn), and down, to see how each cost grows with N.
 */

export interface ScalePoint {
  readonly services: number;
  readonly containers: number;
  /** Median of `renderRuns` calls of the library's render. */
  readonly renderMs: number;
  readonly playMs: number;
  /** Median and worst of the route changes, from play's call until the gateway served the change. */
  readonly changeP50Ms: number;
  readonly changeMaxMs: number;
  /** Of the change's median: podvoy's part, until the gateway's route file was in place. */
  readonly changeWrittenP50Ms: number;
  readonly changes: number;
  readonly envoysRestarted: number;
  readonly downMs: number;
  /**
   * Bare podman, side by side: one `podman kube play` of every pod YAML podvoy rendered (one
   * multi-document file, as a user of bare podman would write it), then the wait until every
   * service answers through the gateway; and `podman pod rm -f` of the same pods.
   */
  readonly bareKubePlayMs: number;
  readonly bareServedMs: number;
  readonly barePodRmMs: number;
  /** The gateway Envoy's resident memory once the mesh is up. */
  readonly gatewayRss: Rss;
}

export interface ScaleResult {
  readonly points: readonly ScalePoint[];
}

function scaleSpec(name: string, port: number, services: number, withWhoamiRoute: boolean): string {
  const ids = Array.from({ length: services }, (_, i) => `s${i}`);
  const routes = [
    ...(withWhoamiRoute ? [`  - prefix: /whoami.txt\n    service: s${services - 1}`] : []),
    ...ids.map((id) => `  - prefix: /${id}/\n    service: ${id}`),
  ];
  return `name: ${name}
gateway:
  http: ${port}
  routes:
${routes.join('\n')}
services:
${ids.map((id) => `  ${id}:\n    static: ./sites/${id}`).join('\n')}
`;
}

export async function measureScalePoint(services: number, options: { renderRuns: number; changes: number }): Promise<ScalePoint> {
  const ws = await workspace();
  try {
    const name = uniqueName('benchsc');
    const port = await freePort();
    const files: Record<string, string> = {};
    for (let i = 0; i < services; i++) {
      files[`sites/s${i}/index.html`] = `<!doctype html><title>s${i}</title>\n`;
      files[`sites/s${i}/whoami.txt`] = `s${i}\n`;
      // What the gateway's /s<i>/ route reaches (routes keep the path).
      files[`sites/s${i}/s${i}/index.html`] = `<!doctype html><title>s${i}</title>\n`;
    }
    await ws.write(files);
    const file = await ws.writeSpec(name, scaleSpec(name, port, services, false));
    const renders: number[] = [];
    for (let i = 0; i < options.renderRuns; i++) renders.push((await timed(() => render(file, { roots: ws.roots }))).ms);

    say(`scale ${services}: play`);
    const played = await timed(() => play(file, { roots: ws.roots, timeoutMs: 120_000 }));
    const pids = await containerPids(name);
    const gatewayEnvoy = Object.keys(pids).find((n) => n.startsWith(`${name}-gateway-`) && n.endsWith('-envoy'))!;
    const gatewayRss = (await rssOf({ gateway: pids[gatewayEnvoy]! })).gateway!;

    const probeUrl = `http://127.0.0.1:${port}/whoami.txt`;
    const last = `s${services - 1}`;
    const changed = await measureMeshChanges(
      {
        name,
        roots: ws.roots,
        probeUrl,
        async change(i) {
          // Even changes add the route (the last service answers), odd ones remove it (no route: 404).
          const add = i % 2 === 0;
          return {
            file: await ws.writeSpec(name, scaleSpec(name, port, services, add)),
            served: (res) => (add ? res.status === 200 && res.body.trim() === last : res.status === 404),
          };
        },
      },
      options.changes,
    );

    // The pods podvoy rendered, services first and the gateway last, as podvoy starts them.
    const dirs = await readdir(specStateDir(ws.roots, name), { withFileTypes: true });
    const pods = dirs
      .filter((d) => d.isDirectory() && d.name.startsWith(`${name}-`))
      .map((d) => d.name)
      .sort((x, y) => Number(x.startsWith(`${name}-${GATEWAY}-`)) - Number(y.startsWith(`${name}-${GATEWAY}-`)) || x.localeCompare(y));
    const all = path.join(ws.dir, 'all-pods.yaml');
    await writeFile(all, (await Promise.all(pods.map((pod) => readFile(podPaths(ws.roots, name, pod).podYaml, 'utf8')))).join('\n---\n'));

    say(`scale ${services}: bare podman pod rm -f, then one kube play of all ${pods.length} pods`);
    const bareRm = await timed(() => podman('pod', 'rm', '-f', ...pods));
    for (const pod of pods) await rm(podPaths(ws.roots, name, pod).adminSocket, { force: true });
    const bareStart = now();
    await podman('kube', 'play', '--network', networkName({ name }), all);
    const kubePlayed = now();
    let servedAt = kubePlayed;
    for (let i = 0; i < services; i++) {
      servedAt = await pollUntil(`http://127.0.0.1:${port}/s${i}/`, (r) => r.status === 200, { intervalMs: 10, timeoutMs: 120_000 });
    }

    say(`scale ${services}: down`);
    const downed = await timed(() => down(name, { roots: ws.roots }));
    return {
      services,
      containers: Object.keys(pids).length,
      renderMs: median(renders),
      playMs: played.ms,
      changeP50Ms: changed.servedP50Ms,
      changeMaxMs: Math.max(...changed.samples.map((s) => s.servedMs)),
      changeWrittenP50Ms: changed.writtenP50Ms,
      changes: changed.changes,
      envoysRestarted: changed.envoysRestarted.length,
      downMs: downed.ms,
      bareKubePlayMs: kubePlayed - bareStart,
      bareServedMs: servedAt - bareStart,
      barePodRmMs: bareRm.ms,
      gatewayRss,
    };
  } finally {
    await ws.cleanup();
  }
}

export async function measureScale(sizes: readonly number[], options: { renderRuns: number; changes: number }): Promise<ScaleResult> {
  const points: ScalePoint[] = [];
  for (const n of sizes) points.push(await measureScalePoint(n, options));
  return { points };
}
