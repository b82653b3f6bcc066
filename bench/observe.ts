import { PAYLOADS, type BenchMesh } from './bench-mesh.js';
import { cpuDuring } from './cpu.js';
import { maxRate } from './load.js';
import { containerPids, median, podman, say, sleep } from './support.js';
import { networkName } from '../src/mesh/names.js';

/**
 * What seeing the mesh costs, side by side (issue 13): the same mesh (gateway -> sidecar ->
 * nginx, plain HTTP between the Envoys) three ways, interleaved round by round so that noise on
 * the machine hits all alike: as it is; with `accessLog: json` (a JSON line per request at every
 * hop instead of the text formats); and as it is while every Envoy's metrics listener is
 * scraped once a second (ten times Prometheus' interval in podvoy's scrape configuration).
 */

export type ObserveConfig = 'plain' | 'json access logs' | 'metrics scraped every 1 s';

export interface ObserveFigures {
  readonly config: ObserveConfig;
  /** Medians over the rounds, 1 KiB through the gateway. */
  readonly maxRps: number;
  readonly rpsRatio: number;
  /** CPU µs per request of the gateway Envoy, the sidecar Envoy and nginx (medians). */
  readonly cpuUsPerRequest: Record<string, number>;
  readonly errors: number;
  readonly rounds: readonly number[];
}

export interface ObserveResult {
  readonly options: { readonly rounds: number; readonly maxSeconds: number };
  readonly figures: readonly ObserveFigures[];
}

/** Fetches each Envoy's /stats/prometheus every second until stopped, as Prometheus would. */
function scrapeEverySecond(urls: readonly string[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(urls.map((u) => fetch(u).then((r) => r.arrayBuffer(), () => undefined)));
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function measureObservability(plain: BenchMesh, json: BenchMesh, options: { rounds: number; maxSeconds: number }): Promise<ObserveResult> {
  const addressOf = async (mesh: BenchMesh, pod: string) =>
    podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${networkName({ name: mesh.name })}").IPAddress}}`, `${pod}-envoy`);
  // podvoy's defaults: the metrics listener is the first port from 15090 the pod does not use.
  const metricsUrls = await Promise.all(['gateway', 'site', 'alt'].map(async (s) => `http://${await addressOf(plain, plain.pods[s]!)}:15090/stats/prometheus`));
  const configs: { config: ObserveConfig; mesh: BenchMesh; scrape: boolean }[] = [
    { config: 'plain', mesh: plain, scrape: false },
    { config: 'json access logs', mesh: json, scrape: false },
    { config: 'metrics scraped every 1 s', mesh: plain, scrape: true },
  ];
  const processesOf = async (mesh: BenchMesh) => {
    const pids = await containerPids(mesh.name);
    return { gateway: pids[`${mesh.pods.gateway}-envoy`]!, sidecar: pids[`${mesh.pods.site}-envoy`]!, nginx: pids[`${mesh.pods.site}-nginx`]! };
  };
  const processes = new Map(await Promise.all(configs.map(async (c) => [c.config, await processesOf(c.mesh)] as const)));
  const runs = new Map<ObserveConfig, { rps: number; errors: number; cpuUsPerRequest: Record<string, number> }[]>();
  for (const c of configs) await maxRate({ url: `${c.mesh.gatewayUrl}${PAYLOADS['1KiB']}` }, 1);
  for (let round = 1; round <= options.rounds; round++) {
    for (const c of configs) {
      say(`observability round ${round}/${options.rounds}: ${c.config}, maximum rate`);
      const scraper = c.scrape ? scrapeEverySecond(metricsUrls) : undefined;
      try {
        const { value: rate, cpu } = await cpuDuring(processes.get(c.config)!, {}, () => maxRate({ url: `${c.mesh.gatewayUrl}${PAYLOADS['1KiB']}` }, options.maxSeconds));
        const cpuUsPerRequest = Object.fromEntries(Object.entries(cpu.seconds).map(([k, sec]) => [k, (sec * 1e6) / rate.requests]));
        runs.set(c.config, [...(runs.get(c.config) ?? []), { rps: rate.rps, errors: rate.errors, cpuUsPerRequest }]);
      } finally {
        await scraper?.stop();
      }
    }
  }
  const base = median(runs.get('plain')!.map((r) => r.rps));
  const figures = configs.map(({ config }) => {
    const rs = runs.get(config)!;
    const maxRps = median(rs.map((r) => r.rps));
    return {
      config,
      maxRps,
      rpsRatio: maxRps / base,
      cpuUsPerRequest: Object.fromEntries(Object.keys(rs[0]!.cpuUsPerRequest).map((k) => [k, median(rs.map((r) => r.cpuUsPerRequest[k]!))])),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      rounds: rs.map((r) => r.rps),
    };
  });
  return { options, figures };
}

export function renderObservability(result: ObserveResult): string[] {
  return [
    '## What seeing the mesh costs',
    '',
    `Maximum requests/s of 1 KiB through the gateway (wrk, 1 thread, 16 connections, ${result.options.maxSeconds} s, median of ${result.options.rounds} interleaved rounds), and CPU µs per request:`,
    '',
    '| configuration | max req/s | vs plain | gateway µs/req | sidecar µs/req | nginx µs/req | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...result.figures.map(
      (f) =>
        `| ${f.config} | ${Math.round(f.maxRps)} | ${(f.rpsRatio * 100).toFixed(1)} % | ${f.cpuUsPerRequest.gateway!.toFixed(0)} | ${f.cpuUsPerRequest.sidecar!.toFixed(0)} | ${f.cpuUsPerRequest.nginx!.toFixed(0)} | ${f.errors} |`,
    ),
    '',
  ];
}
