import path from 'node:path';
import { PACKAGE_ROOT } from '../src/engine/files.js';
import { median, run, timed } from './support.js';

/**
 * The CLI's quick verbs side by side with podman's own: `podvoy ps` against `podman ps`, and
 * `podvoy --version` against Node.js starting and exiting, each a new process, interleaved.
 */

export interface CliResult {
  readonly rounds: number;
  /** Medians, ms. */
  readonly podvoyPsMs: number;
  readonly podmanPsMs: number;
  readonly podvoyVersionMs: number;
  readonly nodeMs: number;
}

const CLI = path.join(PACKAGE_ROOT, 'bin/podvoy.js');

export async function measureCli(rounds: number): Promise<CliResult> {
  const times = { podvoyPs: [] as number[], podmanPs: [] as number[], podvoyVersion: [] as number[], node: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    times.podvoyPs.push((await timed(() => run(process.execPath, [CLI, 'ps']))).ms);
    times.podmanPs.push((await timed(() => run('podman', ['ps']))).ms);
    times.podvoyVersion.push((await timed(() => run(process.execPath, [CLI, '--version']))).ms);
    times.node.push((await timed(() => run(process.execPath, ['-e', '']))).ms);
  }
  return {
    rounds,
    podvoyPsMs: median(times.podvoyPs),
    podmanPsMs: median(times.podmanPs),
    podvoyVersionMs: median(times.podvoyVersion),
    nodeMs: median(times.node),
  };
}
