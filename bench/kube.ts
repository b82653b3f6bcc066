import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildSiteImagesOf, down, kubeApply, kubeDelete, kubeDoctor, loadSpec, play } from '../src/index.js';
import { httpGet } from '../src/engine/envoy/http.js';
import { PACKAGE_ROOT } from '../src/engine/files.js';
import { resolveImages } from '../src/engine/podman/images.js';
import { kubeNamespace } from '../src/mesh/kube-names.js';
import { KUBE_BIN, liveClusterState } from '../test/support/kube-cluster.js';
import { containerPids, freePort, median, now, onCleanup, percentile, pollUntil, run, say, sleep, timed, uniqueName, workspace } from './support.js';

/**
 * Section 7: the mesh example (mTLS on, as it ships) on podman and on a single-node Kubernetes
 * (scripts/kube-up), side by side. Deploy, in interleaved rounds: `play` until the first 200
 * through the gateway's HTTPS port, then `down`; `kubeApply` until the first 200 through the
 * gateway's NodePort on 127.0.0.1, then `kubeDelete`. Mesh change, with both up: the route
 * `/api/` moved between api and blog, from the call until a poll through each gateway gets the
 * new answer; no Envoy may restart.
 */

export interface DeploySample {
  /** From the call until a poll through the gateway got its first 200 over HTTPS. */
  readonly servedMs: number;
  /** From the call until it returned (play: every pod serves; kube apply: every rollout complete and the gateway answers). */
  readonly callMs: number;
  /** podvoy down / kube delete (which waits until the namespace is gone). */
  readonly removeMs: number;
}

export interface ChangeSide {
  /** From the call until a poll through the gateway got the new answer, each change. */
  readonly servedMs: readonly number[];
  /** From the call until it returned, each change. */
  readonly callMs: readonly number[];
  readonly servedP50Ms: number;
  readonly servedP99Ms: number;
  readonly callP50Ms: number;
  readonly callP99Ms: number;
  readonly envoysWatched: number;
  /** Envoys whose process (podman: PID; cluster: container id and restart count) changed over all the changes. */
  readonly envoysRestarted: readonly string[];
}

export interface KubeResult {
  readonly kubernetes: string;
  /** How long scripts/kube-up took, when the benchmark started the cluster; absent when it used one that was up. */
  readonly clusterUpMs?: number;
  /** Before the rounds, not timed in them: the site images built, copied into the cluster, and listed by its node. */
  readonly images: { readonly buildMs: number; readonly loadMs: number; readonly listedMs: number; readonly loaded: readonly string[]; readonly present: readonly string[] };
  readonly nodePorts: { readonly http: number; readonly https: number };
  readonly deploy: { readonly rounds: readonly { readonly podman: DeploySample; readonly cluster: DeploySample }[]; readonly podman: DeploySample; readonly cluster: DeploySample };
  readonly change: { readonly changes: number; readonly pollIntervalMs: number; readonly podman: ChangeSide; readonly cluster: ChangeSide };
}

/** The gateway's node ports: fixed, above the range the cluster tests draw theirs from (30000-32700). */
const NODE_PORTS = { http: 32750, https: 32751 } as const;
const POLL_MS = 10;
const APPLY_TIMEOUT_MS = 300_000;
const KUBECTL = path.join(KUBE_BIN, 'kubectl');

/** The gateways' certificates are self-signed: not verified. */
const insecureGet = (url: string) =>
  httpGet(url, { insecure: true, timeoutMs: 1000 }).then(
    (r) => ({ status: r.status, body: r.body.toString('utf8') }),
    () => ({ status: 0, body: '' }),
  );

/** The example under our name and ports, its `/api/` route to `apiTo`; a failed edit says so rather than measuring something else. */
function meshSpec(example: string, name: string, ports: { http: number; https: number }, apiTo: 'api' | 'blog'): string {
  const edits: [string, string][] = [
    ['name: mesh\n', `name: ${name}\n`],
    ['http: 8081 ', `http: ${ports.http} `],
    ['https: 8443 ', `https: ${ports.https} `],
    ['http: 30081 ', `http: ${NODE_PORTS.http} `],
    ['https: 30443 ', `https: ${NODE_PORTS.https} `],
    ['prefix: /api/\n    service: api\n', `prefix: /api/\n    service: ${apiTo}\n`],
  ];
  return edits.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`examples/mesh/podvoy.yaml has no "${from.trim()}" any more: update bench/kube.ts`);
    return text.replace(from, to);
  }, example);
}

/** Runs scripts/<name> with its progress lines on our stderr; `done` resolves with its stdout. */
function runScript(name: string): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(path.join(PACKAGE_ROOT, 'scripts', name), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`scripts/${name} exited ${code ?? signal}`))));
  });
  return { child, done };
}

/**
 * The cluster that is up (left up), or one started by scripts/kube-up and taken down by
 * scripts/kube-down by `release`, or by cleanupAll on SIGINT/SIGTERM.
 */
async function ensureCluster(): Promise<{ kubeconfig: string; upMs?: number; release: () => Promise<void> }> {
  // podvoy's library runs kubectl from PATH: the cluster's own.
  process.env.PATH = `${KUBE_BIN}:${process.env.PATH ?? ''}`;
  const state = await liveClusterState();
  if (state) {
    say(`cluster: using the one that is up (${state}); it stays up`);
    return { kubeconfig: path.join(state, 'kubeconfig'), release: async () => {} };
  }
  const built = await access(KUBECTL).then(() => true, () => false);
  say(built ? 'cluster: starting one (scripts/kube-up)' : 'cluster: starting one; scripts/kube-up builds Kubernetes first on this machine (about 24 min on 2 cores, once)');
  const up = runScript('kube-up');
  const release = onCleanup(async () => {
    // An interrupted kube-up takes down what it started itself (its TERM trap); kube-down then finds little left.
    if (up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill('SIGTERM');
      await once(up.child, 'close');
    }
    say('cluster: taking it down (scripts/kube-down)');
    await runScript('kube-down').done;
  });
  const { ms, value } = await timed(() => up.done);
  return { kubeconfig: value.trim().split('\n').at(-1)!, upMs: ms, release };
}

interface PodJson {
  metadata: { name: string };
  status: { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}
interface ContainerStatus {
  name: string;
  containerID?: string;
  restartCount: number;
}

/** What one target does to the deployment, and how to see its Envoys. */
interface Side {
  readonly url: string;
  apply(): Promise<unknown>;
  remove(): Promise<unknown>;
  /** Each Envoy, by name, with what changes when it restarts. */
  envoys(): Promise<Record<string, string>>;
}

async function served(side: Side, urlPath: string, done: (res: { status: number; body: string }) => boolean, timeoutMs: number): Promise<number> {
  return pollUntil(`${side.url}${urlPath}`, done, { intervalMs: POLL_MS, timeoutMs, fetch: insecureGet });
}

export async function measureKube(settings: { rounds: number; changes: number }): Promise<KubeResult> {
  const cluster = await ensureCluster();
  const ws = await workspace();
  const name = uniqueName('benchkube');
  const builtImages: string[] = [];
  const removeImages = onCleanup(async () => {
    if (builtImages.length) await run('podman', ['rmi', '--ignore', ...builtImages]);
  });
  // A cluster the benchmark started goes with all in it; on one that stays up, our namespace goes.
  const deleteNamespace = onCleanup(async () => {
    if (cluster.upMs === undefined) await kubeDelete(name, { kubeconfig: cluster.kubeconfig });
  });
  try {
    const example = path.join(PACKAGE_ROOT, 'examples/mesh');
    for (const dir of ['blog', 'api']) await cp(path.join(example, dir), path.join(ws.dir, dir), { recursive: true });
    const text = await readFile(path.join(example, 'podvoy.yaml'), 'utf8');
    const ports = { http: await freePort(), https: await freePort() };
    const writeSpec = (apiTo: 'api' | 'blog') => ws.writeSpec(name, meshSpec(text, name, ports, apiTo));
    const file = await writeSpec('api');
    // Each target its own state: `down` removes the podman deployment's, CA included, while the cluster still uses its own.
    const kubeRoots = { stateDir: path.join(ws.dir, '.kube-state'), runDir: path.join(ws.dir, '.kube-run') };
    let kubernetes = '';

    say('cluster: building the site images and loading them into the cluster');
    const build = await timed(() => buildSiteImagesOf(file));
    builtImages.push(...build.value.map((b) => b.image));
    const images = [(await resolveImages((await loadSpec(file)).images, { pull: false })).envoy, ...builtImages];
    const load = await timed(() => run(path.join(PACKAGE_ROOT, 'scripts/kube-load-image'), images, { timeoutMs: 600_000 }));
    // A kubelet lists a just-imported image in its node status within about 30 s; kube apply waits for that.
    const listed = await timed(async () => {
      for (const deadline = now() + 120_000; !(await kubeDoctor(file, { kubeconfig: cluster.kubeconfig })).every((c) => c.ok); await sleep(1000)) {
        if (now() > deadline) throw new Error(`the cluster's node did not list ${images.join(', ')} within 120 s`);
      }
    });

    const sides: Record<'podman' | 'cluster', Side> = {
      podman: {
        url: `https://127.0.0.1:${ports.https}`,
        apply: () => play(file, { roots: ws.roots }),
        remove: () => down(name, { roots: ws.roots }),
        envoys: async () => Object.fromEntries(Object.entries(await containerPids(name)).filter(([c]) => c.endsWith('-envoy')).map(([c, pid]) => [c, String(pid)])),
      },
      cluster: {
        url: `https://127.0.0.1:${NODE_PORTS.https}`,
        apply: async () => (kubernetes = (await kubeApply(file, { kubeconfig: cluster.kubeconfig, roots: kubeRoots, timeoutMs: APPLY_TIMEOUT_MS })).server),
        // A round starts from nothing on both targets: a new CA, as `down` leaves none on podman.
        remove: async () => {
          await kubeDelete(name, { kubeconfig: cluster.kubeconfig });
          await rm(kubeRoots.stateDir, { recursive: true, force: true });
        },
        envoys: async () => {
          const { stdout } = await run(KUBECTL, ['--kubeconfig', cluster.kubeconfig, 'get', 'pods', '--namespace', kubeNamespace({ name }), '-o', 'json']);
          return Object.fromEntries(
            (JSON.parse(stdout) as { items: PodJson[] }).items.flatMap((p) =>
              [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]
                .filter((c) => c.name === 'envoy')
                .map((c) => [`${p.metadata.name}/envoy`, `${c.containerID}#${c.restartCount}`]),
            ),
          );
        },
      },
    };
    const targets = Object.entries(sides) as ['podman' | 'cluster', Side][];

    const rounds: Record<'podman' | 'cluster', DeploySample>[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const samples = {} as Record<'podman' | 'cluster', DeploySample>;
      for (const [target, side] of targets) {
        say(`cluster round ${round}/${settings.rounds}: ${target} up until the first 200, then removed`);
        // Polled from the call on: the gateway may serve before the call returns.
        const start = now();
        const [callAt, seenAt] = await Promise.all([side.apply().then(() => now()), served(side, '/', (r) => r.status === 200, APPLY_TIMEOUT_MS)]);
        samples[target] = { servedMs: seenAt - start, callMs: callAt - start, removeMs: (await timed(() => side.remove())).ms };
      }
      rounds.push(samples);
    }
    const deployMedian = (target: 'podman' | 'cluster'): DeploySample => {
      const of = (pick: (s: DeploySample) => number) => median(rounds.map((r) => pick(r[target])));
      return { servedMs: of((s) => s.servedMs), callMs: of((s) => s.callMs), removeMs: of((s) => s.removeMs) };
    };

    // Through api, GET /api/posts.json is the API's file; through blog, the blog's own 404 page.
    const answers = {
      api: { status: 200, body: await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8') },
      blog: { status: 404, body: await readFile(path.join(ws.dir, 'blog/404.html'), 'utf8') },
    };
    const answeredBy = (to: 'api' | 'blog') => (r: { status: number; body: string }) => r.status === answers[to].status && r.body === answers[to].body;
    say('cluster: both up for the mesh changes');
    for (const [, side] of targets) {
      await side.apply();
      await served(side, '/api/posts.json', answeredBy('api'), 60_000);
    }
    const before = { podman: await sides.podman.envoys(), cluster: await sides.cluster.envoys() };
    const times = { podman: { servedMs: [] as number[], callMs: [] as number[] }, cluster: { servedMs: [] as number[], callMs: [] as number[] } };
    for (let i = 0; i < settings.changes; i++) {
      const to = i % 2 === 0 ? 'blog' : 'api';
      await writeSpec(to);
      for (const [target, side] of targets) {
        const start = now();
        const [callAt, seenAt] = await Promise.all([
          side.apply().then(() => now()),
          served(side, '/api/posts.json', answeredBy(to), target === 'cluster' ? 120_000 : 30_000),
        ]);
        times[target].servedMs.push(seenAt - start);
        times[target].callMs.push(callAt - start);
      }
      say(`cluster mesh change ${i + 1}/${settings.changes} (/api/ to ${to}): served after ${times.podman.servedMs.at(-1)!.toFixed(0)} ms on podman, ${times.cluster.servedMs.at(-1)!.toFixed(0)} ms on the cluster`);
    }
    const changeSide = async (target: 'podman' | 'cluster'): Promise<ChangeSide> => {
      const after = await sides[target].envoys();
      const { servedMs, callMs } = times[target];
      return {
        servedMs,
        callMs,
        servedP50Ms: percentile(servedMs, 50),
        servedP99Ms: percentile(servedMs, 99),
        callP50Ms: percentile(callMs, 50),
        callP99Ms: percentile(callMs, 99),
        envoysWatched: Object.keys(before[target]).length,
        envoysRestarted: Object.keys(before[target]).filter((e) => after[e] !== before[target][e]),
      };
    };

    return {
      kubernetes,
      ...(cluster.upMs !== undefined ? { clusterUpMs: cluster.upMs } : {}),
      images: {
        buildMs: build.ms,
        loadMs: load.ms,
        listedMs: listed.ms,
        loaded: [...load.value.stderr.matchAll(/loaded (\S+)/g)].map((m) => m[1]!),
        present: [...load.value.stderr.matchAll(/(\S+) is already in the cluster/g)].map((m) => m[1]!),
      },
      nodePorts: NODE_PORTS,
      deploy: { rounds, podman: deployMedian('podman'), cluster: deployMedian('cluster') },
      change: { changes: settings.changes, pollIntervalMs: POLL_MS, podman: await changeSide('podman'), cluster: await changeSide('cluster') },
    };
  } finally {
    await deleteNamespace();
    await ws.cleanup();
    await removeImages();
    await cluster.release();
  }
}
