import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { percentile, run } from './support.js';

/**
 * The load generators, both native: wrk for the maximum request rate (closed loop, as many
 * requests as the connections allow), h2load (nghttp2) for latency at a fixed rate (open loop:
 * `--rps` per client, every request's time in its `--log-file`). Both speak HTTP/1.1 with
 * keep-alive. `netnsPid` runs the tool inside a pod's network namespace (`nsenter -n`).
 */

/** Where a load generator runs: the host's network, or a pod's (by a PID inside it). */
export interface Target {
  readonly url: string;
  readonly netnsPid?: number;
  /** Request headers wrk sends with every request (maximum rate only). */
  readonly headers?: Readonly<Record<string, string>>;
}

const inNetns = (target: Target, argv: string[]): [string, string[]] =>
  target.netnsPid === undefined ? [argv[0]!, argv.slice(1)] : ['nsenter', ['-t', String(target.netnsPid), '-n', ...argv]];

/** wrk's settings for the maximum rate: one thread, so it takes at most one of the two cores. */
export const MAX_LOAD = { threads: 1, connections: 16 } as const;

export interface MaxRate {
  readonly rps: number;
  readonly requests: number;
  /** Non-2xx answers and socket errors together. */
  readonly errors: number;
  /** Bytes of the answers, headers included, as wrk read them off the sockets. */
  readonly bytesRead: number;
}

const UNIT_BYTES: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** The most requests/s the target serves, by wrk for `seconds`. */
export async function maxRate(target: Target, seconds: number): Promise<MaxRate> {
  const headers = Object.entries(target.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const [file, args] = inNetns(target, ['wrk', `-t${MAX_LOAD.threads}`, `-c${MAX_LOAD.connections}`, `-d${seconds}s`, ...headers, target.url]);
  const { stdout } = await run(file, args, { timeoutMs: (seconds + 30) * 1000 });
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  if (Number.isNaN(rps)) throw new Error(`wrk printed no rate:\n${stdout}`);
  // "12345 requests in 5.00s, 1.23GB read" (wrk prints binary units)
  const read = /requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read/.exec(stdout);
  const bytesRead = read ? Number(read[1]) * (UNIT_BYTES[read[2]!] ?? NaN) : NaN;
  return { rps, requests: num(/(\d+) requests in/), errors: socketErrors + (num(/Non-2xx or 3xx responses: (\d+)/) || 0), bytesRead };
}

/** h2load's settings for the fixed rate: `clients` connections, each sending rate/clients per second. */
export const FIXED_LOAD = { clients: 10 } as const;

export interface FixedRate {
  readonly rate: number;
  /** Requests answered 200, and their latency percentiles in ms. */
  readonly ok: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests done per second over the run: below `rate` means the target fell behind. */
  readonly achievedRps: number;
}

/** Latency at a fixed request rate, by h2load for `seconds`. */
export async function fixedRate(target: Target, rate: number, seconds: number): Promise<FixedRate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-bench-h2load-'));
  const log = path.join(dir, 'requests.tsv');
  try {
    const perClient = Math.round(rate / FIXED_LOAD.clients);
    const argv = ['h2load', '--h1', '-c', String(FIXED_LOAD.clients), '--rps', String(perClient), '-D', String(seconds), '--log-file', log, target.url];
    const [file, args] = inNetns(target, argv);
    const { stdout } = await run(file, args, { timeoutMs: (seconds + 30) * 1000 });
    // Requests that never got an answer are not in the log; h2load counts them in its summary.
    const unanswered = /(\d+) errored, (\d+) timeout/.exec(stdout);
    // Each line: start (µs since the epoch), status, µs until the response ended.
    const rows = (await readFile(log, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t').map(Number) as [number, number, number]);
    const ok = rows.filter(([, status]) => status === 200).map(([, , us]) => us / 1000);
    const first = rows.reduce((min, [start]) => Math.min(min, start), Infinity);
    const last = rows.reduce((max, [start]) => Math.max(max, start), -Infinity);
    const spanS = rows.length > 1 ? (last - first) / 1e6 : seconds;
    return {
      rate: perClient * FIXED_LOAD.clients,
      ok: ok.length,
      failed: rows.length - ok.length + (unanswered ? Number(unanswered[1]) + Number(unanswered[2]) : 0),
      p50Ms: percentile(ok, 50),
      p99Ms: percentile(ok, 99),
      achievedRps: rows.length / spanS,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
