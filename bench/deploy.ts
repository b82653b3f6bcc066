import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { down, play } from '../src/index.js';
import { PACKAGE_ROOT } from '../src/engine/files.js';
import { podPaths, specStateDir } from '../src/mesh/layout.js';
import { GATEWAY, networkName } from '../src/mesh/names.js';
import { freePort, median, now, podman, pollUntil, say, timed, uniqueName, workspace } from './support.js';

/**
 * Deploying the blog example behind a gateway, side by side with bare podman, in interleaved
 * rounds: `podvoy play` until the first 200 through the gateway; then bare `podman kube play`
 * of the very pod YAML podvoy rendered (same files, same network name, same runtime), again
 * until the first 200; and `podvoy down` against bare `podman kube down` plus the network's
 * removal.
 */

export interface DeployRound {
  /** podvoy play, from the call until the first 200 through the gateway. */
  readonly playMs: number;
  /** Of playMs: when each progress line podvoy printed came, ms after the call. */
  readonly playSteps: readonly { readonly atMs: number; readonly line: string }[];
  /** Bare: network create + kube play of every pod YAML, then the wait for the same 200. */
  readonly bareMs: number;
  readonly bareKubePlayMs: number;
  /** Of bareMs: from the last kube play's return until the first 200 (Envoy's start-up, health checks). */
  readonly bareWaitMs: number;
  readonly downMs: number;
  readonly bareDownMs: number;
}

export interface DeployResult {
  readonly pods: readonly string[];
  readonly rounds: readonly DeployRound[];
  readonly playMs: number;
  readonly bareMs: number;
  readonly bareKubePlayMs: number;
  readonly bareWaitMs: number;
  readonly downMs: number;
  readonly bareDownMs: number;
  /** playMs / bareMs. */
  readonly ratio: number;
}

const POLL = { intervalMs: 10, timeoutMs: 60_000 } as const;

/** The blog example's spec with a gateway in front: the blog's own spec publishes its sidecar instead. */
function blogSpec(name: string, httpPort: number): string {
  return `name: ${name}
gateway:
  http: ${httpPort}
  routes:
  - prefix: /
    service: web
services:
  web:
    static: ./site
`;
}

export async function measureDeploy(rounds: number): Promise<DeployResult> {
  const ws = await workspace();
  try {
    await cp(path.join(PACKAGE_ROOT, 'examples/blog/site'), path.join(ws.dir, 'site'), { recursive: true });
    const name = uniqueName('benchdep');
    const port = await freePort();
    const file = await ws.writeSpec(name, blogSpec(name, port));
    const url = `http://127.0.0.1:${port}/`;
    const served = (r: { status: number }) => r.status === 200;
    const network = networkName({ name });
    const results: DeployRound[] = [];
    let pods: string[] = [];

    for (let round = 1; round <= rounds; round++) {
      say(`deploy round ${round}/${rounds}: podvoy play`);
      const steps: { atMs: number; line: string }[] = [];
      const start = now();
      await play(file, { roots: ws.roots, onProgress: (line) => steps.push({ atMs: now() - start, line }) });
      const playMs = (await pollUntil(url, served, POLL)) - start;

      // The pods in the order podvoy played them: services first, the gateway last.
      const dirs = await readdir(specStateDir(ws.roots, name), { withFileTypes: true });
      pods = dirs
        .filter((d) => d.isDirectory() && d.name.startsWith(`${name}-`))
        .map((d) => d.name)
        .sort((x, y) => Number(x.startsWith(`${name}-${GATEWAY}-`)) - Number(y.startsWith(`${name}-${GATEWAY}-`)) || x.localeCompare(y));
      const yamls = pods.map((pod) => podPaths(ws.roots, name, pod).podYaml);

      say(`deploy round ${round}/${rounds}: bare podman kube down, kube play`);
      const bareDown = await timed(async () => {
        for (const yaml of yamls) await podman('kube', 'down', yaml);
        await podman('network', 'rm', network);
      });
      // Envoy made its admin socket in the pod's run directory; the next Envoy makes its own.
      for (const pod of pods) await rm(podPaths(ws.roots, name, pod).adminSocket, { force: true });

      const bareStart = now();
      await podman('network', 'create', network);
      for (const yaml of yamls) await podman('kube', 'play', '--network', network, yaml);
      const kubePlayed = now();
      const bareEnd = await pollUntil(url, served, POLL);

      say(`deploy round ${round}/${rounds}: podvoy down`);
      const downed = await timed(() => down(name, { roots: ws.roots }));
      results.push({
        playMs,
        playSteps: steps,
        bareMs: bareEnd - bareStart,
        bareKubePlayMs: kubePlayed - bareStart,
        bareWaitMs: bareEnd - kubePlayed,
        downMs: downed.ms,
        bareDownMs: bareDown.ms,
      });
    }
    const med = (pick: (r: DeployRound) => number) => median(results.map(pick));
    return {
      pods,
      rounds: results,
      playMs: med((r) => r.playMs),
      bareMs: med((r) => r.bareMs),
      bareKubePlayMs: med((r) => r.bareKubePlayMs),
      bareWaitMs: med((r) => r.bareWaitMs),
      downMs: med((r) => r.downMs),
      bareDownMs: med((r) => r.bareDownMs),
      ratio: med((r) => r.playMs) / med((r) => r.bareMs),
    };
  } finally {
    await ws.cleanup();
  }
}

/**
 * Where one play's time went, ms by phase, from when its progress lines came. Pods start
 * together, so lines of different pods interleave: each phase runs from one milestone to the
 * next (the first pod played, the last one played, every pod serving, the first 200).
 */
export function playStepTotals(round: DeployRound): Record<string, number> {
  const at = (prefix: string, pick: 'first' | 'last') => {
    const lines = round.playSteps.filter((step) => step.line.startsWith(prefix));
    return (pick === 'first' ? lines[0] : lines.at(-1))?.atMs;
  };
  const firstPlayed = at('playing', 'first') ?? round.playMs;
  const lastPlayed = at('waiting for', 'last') ?? firstPlayed;
  const serving = at('registering', 'first') ?? lastPlayed;
  return {
    'spec, images, certificates, files, network (until the first pod starts)': firstPlayed,
    'podman kube play of every pod, together': lastPlayed - firstPlayed,
    'until every pod serves': serving - lastPlayed,
    'registration, until the gateway and sidecars see the pods healthy and the first 200': round.playMs - serving,
  };
}
