import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ENVOY_CONCURRENCY, POD_PORTS as IN_POD_PORTS } from '../src/mesh/contract.js';
import { PAYLOADS, POD_PORTS, type BenchMesh } from './bench-mesh.js';
import { startSecondNginx } from './second-nginx.js';
import { startReference, type ReferenceHop, type RunningReference } from './reference-envoy.js';
import { cpuDuring } from './cpu.js';
import { fixedRate, maxRate, type FixedRate, type MaxRate, type Target } from './load.js';
import { peakOf, sampleDuring, type Rss } from './memory.js';
import { median, podman, say } from './support.js';

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
  d: 'reference Envoy -> nginx (in the pod), the hop of (b)',
  e: 'gateway -> sidecar -> nginx (in the gateway pod)',
  f: 'reference Envoy -> sidecar -> nginx (in the gateway pod), the hop of (e), HTTP/2 to the sidecar',
  g: 'try: reference Envoy, HTTP/1.1 to the sidecar (in the gateway pod)',
  h: 'try: reference Envoy -> a second nginx over loopback TCP (in the pod)',
  i: 'try: reference Envoy -> the same nginx over a unix socket (in the pod)',
  j: 'try: the reference of (d) as a host process, outside any container',
} as const;
/** The tries compare designs, not sizes: they run with the small file only. */
const TRIES: readonly PathId[] = ['g', 'h', 'i', 'j'];
/** The order of a round: every path, each compared pair side by side. */
const PAIRED_ORDER: readonly PathId[] = ['a', 'b', 'd', 'j', 'c', 'e', 'f', 'g', 'h', 'i'];
/** The reference Envoy on each path that has one, by its key in `References`. */
const REFERENCE_OF: Partial<Record<PathId, keyof References>> = { d: 'sidecar', f: 'gatewayH2', g: 'gatewayH1', h: 'toTcpNginx', i: 'toUnixNginx', j: 'sidecarOnHost' };
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

function targets(mesh: BenchMesh, refs: References, file: string): Record<PathId, Target> {
  const site = mesh.siteNetns;
  const gateway = mesh.gatewayNetns;
  return {
    a: { url: `http://127.0.0.1:${POD_PORTS.nginx}${file}`, netnsPid: site },
    b: { url: `http://127.0.0.1:${POD_PORTS.sidecar}${file}`, netnsPid: site },
    c: { url: `${mesh.gatewayUrl}${file}` },
    d: { url: `${refs.sidecar.url}${file}`, netnsPid: site },
    e: { url: `http://127.0.0.1:${IN_POD_PORTS.gatewayHttp}${file}`, netnsPid: gateway },
    f: { url: `${refs.gatewayH2.url}${file}`, netnsPid: gateway },
    g: { url: `${refs.gatewayH1.url}${file}`, netnsPid: gateway },
    h: { url: `${refs.toTcpNginx.url}${file}`, netnsPid: site },
    i: { url: `${refs.toUnixNginx.url}${file}`, netnsPid: site },
    j: { url: `${refs.sidecarOnHost.url}${file}`, netnsPid: site },
  };
}

interface References {
  readonly sidecar: RunningReference;
  readonly gatewayH2: RunningReference;
  readonly gatewayH1: RunningReference;
  readonly toTcpNginx: RunningReference;
  readonly toUnixNginx: RunningReference;
  readonly sidecarOnHost: RunningReference;
}

/**
 * Starts the reference Envoys (and the second nginx the socket try needs) beside the mesh, each
 * in a container of the pod it measures, from podvoy's Envoy image; one more as a host process.
 */
async function startReferences(mesh: BenchMesh, dir: string, probe: string): Promise<{ refs: References; stop: () => Promise<void> }> {
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop();
  };
  try {
    const keep = <T extends { stop(): Promise<void> }>(s: T) => (started.push(s), s);
    const nginx = keep(await startSecondNginx(mesh.siteNetns, path.join(mesh.ws.dir, 'site'), dir, REFERENCE_PORTS.nginx, probe));
    const sidecarAddress = { address: mesh.siteAddress, port: POD_PORTS.sidecar };
    const toNginx = { address: '127.0.0.1', port: POD_PORTS.nginx };
    const image = await podman('inspect', '--format', '{{.ImageName}}', `${mesh.pods.site!}-envoy`);
    const site = { container: { pod: mesh.pods.site!, image } };
    const gateway = { container: { pod: mesh.pods.gateway!, image } };
    const sidecarHop = (port: number, upstream: ReferenceHop['upstream']): ReferenceHop => ({ port, upstream, http2Upstream: false, concurrency: ENVOY_CONCURRENCY.sidecar });
    const gatewayHop = (port: number, http2Upstream: boolean): ReferenceHop => ({ port, upstream: sidecarAddress, http2Upstream, concurrency: ENVOY_CONCURRENCY.gateway });
    const refs: References = {
      sidecar: keep(await startReference(sidecarHop(REFERENCE_PORTS.sidecar, toNginx), site, mesh.siteNetns, dir, probe)),
      gatewayH2: keep(await startReference(gatewayHop(REFERENCE_PORTS.gatewayH2, true), gateway, mesh.gatewayNetns, dir, probe)),
      gatewayH1: keep(await startReference(gatewayHop(REFERENCE_PORTS.gatewayH1, false), gateway, mesh.gatewayNetns, dir, probe)),
      toTcpNginx: keep(await startReference(sidecarHop(REFERENCE_PORTS.toTcp, { address: '127.0.0.1', port: REFERENCE_PORTS.nginx }), site, mesh.siteNetns, dir, probe)),
      toUnixNginx: keep(await startReference(sidecarHop(REFERENCE_PORTS.toUnix, { pipe: nginx.socket }), site, mesh.siteNetns, dir, probe)),
      sidecarOnHost: keep(await startReference(sidecarHop(REFERENCE_PORTS.sidecarOnHost, toNginx), { host: true }, mesh.siteNetns, dir, probe)),
    };
    return { refs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Ports of the reference Envoys and the second nginx inside the pods; none of podvoy's uses them. */
const REFERENCE_PORTS = { sidecar: 10090, gatewayH2: 8090, gatewayH1: 8091, toTcp: 10091, toUnix: 10092, sidecarOnHost: 10093, nginx: 18080 } as const;


export async function measureDataPlane(mesh: BenchMesh, options: DataPlaneOptions): Promise<DataPlaneResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-bench-ref-'));
  try {
    const { refs, stop } = await startReferences(mesh, dir, PAYLOADS['1KiB']);
    try {
      return await measurePaths(mesh, refs, options);
    } finally {
      await stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measurePaths(mesh: BenchMesh, refs: References, options: DataPlaneOptions): Promise<DataPlaneResult> {
  const ids = Object.keys(PATHS) as PathId[];
  const sizes = Object.keys(PAYLOADS) as Size[];
  const max = new Map<string, MaxRound[]>();
  const fixed = new Map<string, FixedRate[]>();
  const key = (size: Size, path: PathId) => `${size}/${path}`;
  let peakUnderLoad: Record<string, Rss> = {};

  const pathsOf = (size: Size) => ids.filter((id) => size === '1KiB' || !TRIES.includes(id));
  // Each of podvoy's Envoys next to its reference ((b) (d), (e) (f)), the whole order reversed
  // every other round: the two of a pair are measured within seconds of each other, in turn
  // first, so that the machine's drift falls on both.
  const roundOrder = (size: Size, round: number) => {
    const order = PAIRED_ORDER.filter((id) => pathsOf(size).includes(id));
    return round % 2 === 0 ? order.reverse() : order;
  };
  // Connections, caches and Envoy's lazily built state warm up once, unmeasured.
  for (const size of sizes) for (const id of pathsOf(size)) await maxRate(targets(mesh, refs, PAYLOADS[size])[id], 1);

  for (let round = 1; round <= options.rounds; round++) {
    for (const size of sizes) {
      const t = targets(mesh, refs, PAYLOADS[size]);
      for (const id of roundOrder(size, round)) {
        say(`data plane round ${round}/${options.rounds}: ${size} (${id}) maximum rate`);
        const run = () => sampleDuring(options.processes, () => maxRate(t[id], options.maxSeconds));
        const reference = REFERENCE_OF[id];
        const measured = reference ? { ...options.processes, reference: refs[reference].pid } : options.processes;
        const { value: sampled, cpu } = await cpuDuring(measured, options.groups, run);
        peakUnderLoad = peakOf(peakUnderLoad, sampled.peak);
        const rate = sampled.value;
        const cpuUsPerRequest = Object.fromEntries(Object.entries(cpu.seconds).map(([k, sec]) => [k, (sec * 1e6) / rate.requests]));
        max.set(key(size, id), [...(max.get(key(size, id)) ?? []), { ...rate, cpuUsPerRequest, machineBusy: cpu.machineBusy }]);
      }
      for (const id of roundOrder(size, round)) {
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
    for (const id of pathsOf(size)) {
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
