import { watch } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/files.js';
import { play, type StateRoots } from '../src/index.js';
import { xdsDir } from '../src/mesh/layout.js';
import { containerPids, median, now, percentile, podman, pollUntil, run, say, timed } from './support.js';

/**
 * A route change through `play`: from the call until the gateway serves the new route, seen by
 * a poll through the gateway every few ms. Split in two by the moment the gateway's route file
 * is renamed into place (podvoy's work, then Envoy's), and checked for restarts by every
 * Envoy's PID before and after. `via: 'library'` calls the library's play in this process;
 * `via: 'cli'` runs `podvoy play` as a user does, a new Node.js process each time.
 */

export interface MeshChangeTarget {
  readonly name: string;
  readonly roots: StateRoots;
  /** The URL whose answer shows which way the changed route goes. */
  readonly probeUrl: string;
  /** Writes the spec for change number `i` and returns its path and how to recognise it served. */
  change(i: number): Promise<{ file: string; served: (res: { status: number; body: string }) => boolean }>;
}

export interface ChangeSample {
  /** From play's call until a request through the gateway got the new answer. */
  readonly servedMs: number;
  /** From play's call until the gateway's new route file was in place. */
  readonly writtenMs: number;
  /** From the file in place until it served: Envoy's watch and reload. */
  readonly appliedMs: number;
  /** How long play took to return (it waits until every Envoy reports the new version). */
  readonly playMs: number;
  /** Library only: the mesh files play reports it changed, and the pods it started. */
  readonly meshChanges?: readonly string[];
  readonly podsChanged?: number;
}

export interface MeshChangeResult {
  readonly via: Via;
  readonly changes: number;
  readonly pollIntervalMs: number;
  readonly samples: readonly ChangeSample[];
  readonly servedP50Ms: number;
  readonly servedP99Ms: number;
  readonly writtenP50Ms: number;
  readonly appliedP50Ms: number;
  readonly appliedP99Ms: number;
  readonly playP50Ms: number;
  /** Envoy containers whose PID changed across all the changes (none is the goal). */
  readonly envoysRestarted: readonly string[];
  readonly envoysWatched: number;
  /** A podman CLI call here (`podman pod ps` of this deployment, as play lists pods), median of 5, ms. */
  readonly podmanCallMs: number;
  /** CLI only, medians of 3, ms: Node.js starting and exiting, and starting while importing podvoy's library (dist/index.js). */
  readonly cliStartup?: { readonly nodeMs: number; readonly nodeWithImportMs: number };
}

const POLL_MS = 5;
const CLI = path.join(PACKAGE_ROOT, 'bin/podvoy.js');

export type Via = 'library' | 'cli';

async function playVia(via: Via, file: string, roots: StateRoots): Promise<Pick<ChangeSample, 'meshChanges' | 'podsChanged'>> {
  if (via === 'cli') {
    await run(process.execPath, [CLI, 'play', file], { env: { PODVOY_STATE_DIR: roots.stateDir, PODVOY_RUN_DIR: roots.runDir } });
    return {};
  }
  const result = await play(file, { roots });
  return {
    meshChanges: result.meshChanges.map((f) => path.basename(f)),
    podsChanged: result.services.filter((s) => s.outcome !== 'unchanged').length,
  };
}

export async function measureMeshChanges(target: MeshChangeTarget, changes: number, via: Via = 'library'): Promise<MeshChangeResult> {
  const envoyPids = async () => Object.fromEntries(Object.entries(await containerPids(target.name)).filter(([n]) => n.endsWith('-envoy')));
  const before = await envoyPids();
  const gatewayXds = xdsDir(target.roots, target.name, 'gateway');
  const samples: ChangeSample[] = [];
  for (let i = 0; i < changes; i++) {
    const { file, served } = await target.change(i);
    let writtenAt = NaN;
    const watcher = watch(gatewayXds, (_event, name) => {
      if (name === 'rds.yaml' && Number.isNaN(writtenAt)) writtenAt = now();
    });
    try {
      const start = now();
      const [result, seenAt] = await Promise.all([
        playVia(via, file, target.roots).then((r) => ({ r, at: now() })),
        pollUntil(target.probeUrl, served, { intervalMs: POLL_MS, timeoutMs: 30_000 }),
      ]);
      samples.push({
        servedMs: seenAt - start,
        writtenMs: writtenAt - start,
        appliedMs: seenAt - writtenAt,
        playMs: result.at - start,
        ...result.r,
      });
    } finally {
      watcher.close();
    }
    say(`mesh change ${i + 1}/${changes} (${via}): served after ${samples.at(-1)!.servedMs.toFixed(0)} ms`);
  }
  const after = await envoyPids();
  const calls: number[] = [];
  for (let i = 0; i < 5; i++) calls.push((await timed(() => podman('pod', 'ps', '--filter', `label=io.podvoy.spec=${target.name}`, '--format', 'json'))).ms);
  const startup = async (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push((await timed(() => run(process.execPath, args))).ms);
    return median(times);
  };
  const importLibrary = `await import(${JSON.stringify(path.join(PACKAGE_ROOT, 'dist/index.js'))})`;
  const cliStartup =
    via === 'cli'
      ? { nodeMs: await startup(['-e', '']), nodeWithImportMs: await startup(['--input-type=module', '-e', importLibrary]) }
      : undefined;
  const of = (pick: (s: ChangeSample) => number, p: number) => percentile(samples.map(pick), p);
  return {
    via,
    changes,
    pollIntervalMs: POLL_MS,
    samples,
    servedP50Ms: of((s) => s.servedMs, 50),
    servedP99Ms: of((s) => s.servedMs, 99),
    writtenP50Ms: of((s) => s.writtenMs, 50),
    appliedP50Ms: of((s) => s.appliedMs, 50),
    appliedP99Ms: of((s) => s.appliedMs, 99),
    playP50Ms: of((s) => s.playMs, 50),
    envoysRestarted: Object.keys(before).filter((n) => after[n] !== before[n]),
    envoysWatched: Object.keys(before).length,
    podmanCallMs: median(calls),
    ...(cliStartup ? { cliStartup } : {}),
  };
}
