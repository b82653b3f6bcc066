import { PAYLOADS, POD_PORTS, type BenchMesh } from './bench-mesh.js';
import { cpuDuring } from './cpu.js';
import { fixedRate, maxRate, type FixedRate, type MaxRate, type Target } from './load.js';
import { peakOf, sampleDuring, type Rss } from './memory.js';
import { median, say } from './support.js';

/**
 * The data plane, side by side: the same files fetched (a) from nginx inside the pod's network
 * namespace, (b) through the sidecar there, (c) through the gateway from the host. The paths
 * are interleaved (a, b, c, a, b, c, ...) so that noise on the machine hits them alike, and each
 * figure is the median of its rounds.
 */

export const PATHS = {
  a: 'nginx direct (in the pod)',
  b: 'sidecar -> nginx (in the pod)',
  c: 'gateway -> sidecar -> nginx (host)',
} as const;
export type PathId = keyof typeof PATHS;
export type Size = keyof typeof PAYLOADS;

export interface DataPlaneOptions {
  readonly rounds: number;
  /** Seconds of each wrk run. */
  readonly maxSeconds: number;
  /** Seconds of each h2load run, at `rate` requests/s. */
  readonly fixedSeconds: number;
  readonly rate: number;
  /**
   * The processes on the paths (gateway Envoy, sidecar Envoy, nginx), by label: their CPU is
   * read around every maximum-rate run and their memory sampled during it.
   */
  readonly processes: Readonly<Record<string, number>>;
  /** Single processes whose CPU is read together, by label: the conmons that carry those containers' logs. */
  readonly groups: Readonly<Record<string, readonly number[]>>;
}

/** One maximum-rate run, with what it cost in CPU. */
export interface MaxRound extends MaxRate {
  /** CPU µs per request of each process (by label): what each hop costs. */
  readonly cpuUsPerRequest: Record<string, number>;
  /** Share of the machine's cores busy during the run (0..1), the load generator included. */
  readonly machineBusy: number;
}

export interface PathFigures {
  readonly path: PathId;
  readonly size: Size;
  /** Medians over the rounds. */
  readonly maxRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** maxRps / maxRps of (a). */
  readonly rpsRatio: number;
  /** p50 and p99 minus those of (a), ms. */
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  /** Medians over the rounds of the maximum-rate runs' CPU figures. */
  readonly cpuUsPerRequest: Record<string, number>;
  readonly machineBusy: number;
  readonly maxRounds: readonly MaxRound[];
  readonly fixedRounds: readonly FixedRate[];
}

export interface DataPlaneResult {
  readonly options: Omit<DataPlaneOptions, 'processes' | 'groups'>;
  readonly figures: readonly PathFigures[];
  /** Peak resident memory of each process (by label) over all the maximum-rate runs. */
  readonly peakUnderLoad: Record<string, Rss>;
}

function targets(mesh: BenchMesh, file: string): Record<PathId, Target> {
  return {
    a: { url: `http://127.0.0.1:${POD_PORTS.nginx}${file}`, netnsPid: mesh.siteNetns },
    b: { url: `http://127.0.0.1:${POD_PORTS.sidecar}${file}`, netnsPid: mesh.siteNetns },
    c: { url: `${mesh.gatewayUrl}${file}` },
  };
}

export async function measureDataPlane(mesh: BenchMesh, options: DataPlaneOptions): Promise<DataPlaneResult> {
  const ids = Object.keys(PATHS) as PathId[];
  const sizes = Object.keys(PAYLOADS) as Size[];
  const max = new Map<string, MaxRound[]>();
  const fixed = new Map<string, FixedRate[]>();
  const key = (size: Size, path: PathId) => `${size}/${path}`;
  let peakUnderLoad: Record<string, Rss> = {};

  // Connections, caches and Envoy's lazily built state warm up once, unmeasured.
  for (const size of sizes) for (const id of ids) await maxRate(targets(mesh, PAYLOADS[size])[id], 1);

  for (let round = 1; round <= options.rounds; round++) {
    for (const size of sizes) {
      const t = targets(mesh, PAYLOADS[size]);
      for (const id of ids) {
        say(`data plane round ${round}/${options.rounds}: ${size} (${id}) maximum rate`);
        const run = () => sampleDuring(options.processes, () => maxRate(t[id], options.maxSeconds));
        const { value: sampled, cpu } = await cpuDuring(options.processes, options.groups, run);
        peakUnderLoad = peakOf(peakUnderLoad, sampled.peak);
        const rate = sampled.value;
        const cpuUsPerRequest = Object.fromEntries(Object.entries(cpu.seconds).map(([k, sec]) => [k, (sec * 1e6) / rate.requests]));
        max.set(key(size, id), [...(max.get(key(size, id)) ?? []), { ...rate, cpuUsPerRequest, machineBusy: cpu.machineBusy }]);
      }
      for (const id of ids) {
        say(`data plane round ${round}/${options.rounds}: ${size} (${id}) at ${options.rate} requests/s`);
        fixed.set(key(size, id), [...(fixed.get(key(size, id)) ?? []), await fixedRate(t[id], options.rate, options.fixedSeconds)]);
      }
    }
  }

  const figures: PathFigures[] = [];
  for (const size of sizes) {
    const direct = { max: max.get(key(size, 'a'))!, fixed: fixed.get(key(size, 'a'))! };
    const base = {
      rps: median(direct.max.map((r) => r.rps)),
      p50: median(direct.fixed.map((r) => r.p50Ms)),
      p99: median(direct.fixed.map((r) => r.p99Ms)),
    };
    for (const id of ids) {
      const maxRounds = max.get(key(size, id))!;
      const fixedRounds = fixed.get(key(size, id))!;
      const maxRps = median(maxRounds.map((r) => r.rps));
      const p50Ms = median(fixedRounds.map((r) => r.p50Ms));
      const p99Ms = median(fixedRounds.map((r) => r.p99Ms));
      figures.push({
        path: id,
        size,
        maxRps,
        p50Ms,
        p99Ms,
        rpsRatio: maxRps / base.rps,
        addedP50Ms: p50Ms - base.p50,
        addedP99Ms: p99Ms - base.p99,
        cpuUsPerRequest: Object.fromEntries(Object.keys(maxRounds[0]!.cpuUsPerRequest).map((k) => [k, median(maxRounds.map((r) => r.cpuUsPerRequest[k]!))])),
        machineBusy: median(maxRounds.map((r) => r.machineBusy)),
        maxRounds,
        fixedRounds,
      });
    }
  }
  const { processes: _, groups: __, ...rest } = options;
  return { options: rest, figures, peakUnderLoad };
}
