import { PAYLOADS, type BenchMesh } from './bench-mesh.js';
import { cpuDuring } from './cpu.js';
import { fixedRate, maxRate, type FixedRate, type MaxRate } from './load.js';
import { containerPids, median, say } from './support.js';

/**
 * The price of mTLS, side by side: two identical meshes (gateway -> sidecar -> nginx), one with
 * `mtls: false` and one with mTLS on every hop, fetched through the gateway's HTTP port from the
 * host, interleaved (plain, mTLS, plain, mTLS...) so that noise on the machine hits both alike.
 * The client speaks plain HTTP to the gateway in both: the difference is the gateway -> sidecar
 * hop, TLS 1.3 with both certificates checked and the sidecar's RBAC filter.
 */

export interface MtlsOptions {
  readonly rounds: number;
  readonly maxSeconds: number;
  readonly fixedSeconds: number;
  readonly rate: number;
}

export interface MtlsFigures {
  readonly size: keyof typeof PAYLOADS;
  readonly mtls: boolean;
  /** Medians over the rounds. */
  readonly maxRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers and socket errors over every run. */
  readonly errors: number;
  /** With mTLS: max req/s against the plain mesh's (1 = no loss), and the added p50 and p99 in ms. */
  readonly rpsRatio: number;
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  /**
   * CPU µs per request at the maximum rate of the gateway Envoy, the sidecar Envoy and nginx
   * (medians of the rounds): what the hop costs, which other work on the machine moves less
   * than it moves requests/s.
   */
  readonly cpuUsPerRequest: Record<string, number>;
  readonly maxRounds: readonly (MaxRate & { cpuUsPerRequest: Record<string, number> })[];
  readonly fixedRounds: readonly FixedRate[];
}

export interface MtlsResult {
  readonly options: MtlsOptions;
  readonly figures: readonly MtlsFigures[];
}

export async function measureMtls(plain: BenchMesh, mtls: BenchMesh, options: MtlsOptions): Promise<MtlsResult> {
  const meshes = [
    { mtls: false, mesh: plain },
    { mtls: true, mesh: mtls },
  ];
  const sizes = Object.keys(PAYLOADS) as (keyof typeof PAYLOADS)[];
  const key = (size: string, on: boolean) => `${size}/${on}`;
  const max = new Map<string, (MaxRate & { cpuUsPerRequest: Record<string, number> })[]>();
  const processesOf = async (mesh: BenchMesh) => {
    const pids = await containerPids(mesh.name);
    return { gateway: pids[`${mesh.pods.gateway}-envoy`]!, sidecar: pids[`${mesh.pods.site}-envoy`]!, nginx: pids[`${mesh.pods.site}-nginx`]! };
  };
  const processes = new Map(await Promise.all(meshes.map(async (m) => [m.mtls, await processesOf(m.mesh)] as const)));
  const fixed = new Map<string, FixedRate[]>();
  // Connections and TLS sessions warm up once, unmeasured.
  for (const size of sizes) for (const m of meshes) await maxRate({ url: `${m.mesh.gatewayUrl}${PAYLOADS[size]}` }, 1);
  for (let round = 1; round <= options.rounds; round++) {
    for (const size of sizes) {
      for (const m of meshes) {
        say(`mTLS round ${round}/${options.rounds}: ${size} ${m.mtls ? 'with' : 'without'} mTLS, maximum rate`);
        const { value: rate, cpu } = await cpuDuring(processes.get(m.mtls)!, {}, () => maxRate({ url: `${m.mesh.gatewayUrl}${PAYLOADS[size]}` }, options.maxSeconds));
        const cpuUsPerRequest = Object.fromEntries(Object.entries(cpu.seconds).map(([k, sec]) => [k, (sec * 1e6) / rate.requests]));
        max.set(key(size, m.mtls), [...(max.get(key(size, m.mtls)) ?? []), { ...rate, cpuUsPerRequest }]);
      }
      for (const m of meshes) {
        say(`mTLS round ${round}/${options.rounds}: ${size} ${m.mtls ? 'with' : 'without'} mTLS at ${options.rate} requests/s`);
        const run = await fixedRate({ url: `${m.mesh.gatewayUrl}${PAYLOADS[size]}` }, options.rate, options.fixedSeconds);
        fixed.set(key(size, m.mtls), [...(fixed.get(key(size, m.mtls)) ?? []), run]);
      }
    }
  }
  const figures: MtlsFigures[] = [];
  for (const size of sizes) {
    const of = (on: boolean) => {
      const maxRounds = max.get(key(size, on))!;
      const fixedRounds = fixed.get(key(size, on))!;
      return {
        maxRounds,
        fixedRounds,
        maxRps: median(maxRounds.map((r) => r.rps)),
        p50Ms: median(fixedRounds.map((r) => r.p50Ms)),
        p99Ms: median(fixedRounds.map((r) => r.p99Ms)),
        errors: maxRounds.reduce((n, r) => n + r.errors, 0) + fixedRounds.reduce((n, r) => n + r.failed, 0),
        cpuUsPerRequest: Object.fromEntries(Object.keys(maxRounds[0]!.cpuUsPerRequest).map((k) => [k, median(maxRounds.map((r) => r.cpuUsPerRequest[k]!))])),
      };
    };
    const base = of(false);
    for (const on of [false, true]) {
      const x = of(on);
      figures.push({
        size,
        mtls: on,
        ...x,
        rpsRatio: x.maxRps / base.maxRps,
        addedP50Ms: x.p50Ms - base.p50Ms,
        addedP99Ms: x.p99Ms - base.p99Ms,
      });
    }
  }
  return { options, figures };
}

/** The goals for mTLS: at most 15 % fewer requests/s and at most +0.5 ms p99 at the fixed rate. */
export const MTLS_GOALS = { minRpsRatio: 0.85, maxAddedP99Ms: 0.5 } as const;
