import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { resolveImages } from '../src/engine/podman/images.js';
import { nginxHasBrotli } from '../src/mesh/contract.js';
import type { BenchMesh } from './bench-mesh.js';
import { cpuDuring } from './cpu.js';
import { maxRate, type MaxRate } from './load.js';
import { median, say } from './support.js';

/**
 * Compression through the gateway, side by side: one 100 KiB HTML page fetched by wrk as a
 * client that takes no encoding, gzip, or brotli, which nginx compresses on every answer when
 * its image has the brotli modules, else the sidecar (src/render/compression.ts); and the same
 * page compressed ahead of time (a .gz and a .br file beside it, which nginx sends as they are;
 * the .br only with the modules). The figures are what each costs end to end:
 * requests/s, bytes on the wire per answer, and CPU per request of each process on the path.
 * Variants are interleaved round by round; each figure is the median of its rounds.
 */

/** The page, as the site serves it; a long blog post, not random bytes. */
export const PAGE = { path: '/long-read.html', bytes: 100 * 1024 } as const;
/** The same page with a `.gz` and a `.br` beside it (nginx `gzip_static`, `brotli_static`). */
const PRECOMPRESSED = '/long-read-gz.html';

export const ENCODINGS = {
  identity: { label: '(none)', accept: undefined, path: PAGE.path },
  gzip: { label: 'gzip', accept: 'gzip', path: PAGE.path },
  br: { label: 'br', accept: 'br', path: PAGE.path },
  gzipFile: { label: 'gzip, from a .gz file', accept: 'gzip', path: PRECOMPRESSED },
  brFile: { label: 'br, from a .br file', accept: 'br', path: PRECOMPRESSED },
} as const;
export type Encoding = keyof typeof ENCODINGS;

export interface CompressionOptions {
  readonly rounds: number;
  readonly maxSeconds: number;
  /** Processes whose CPU is read around each run, by label (gateway, sidecar, nginx). */
  readonly processes: Readonly<Record<string, number>>;
  readonly groups: Readonly<Record<string, readonly number[]>>;
}

export interface CompressionFigures {
  readonly encoding: Encoding;
  readonly maxRps: number;
  /** Bytes wrk read per answer, headers included. */
  readonly bytesPerRequest: number;
  readonly cpuUsPerRequest: Record<string, number>;
  readonly machineBusy: number;
  readonly errors: number;
  readonly rounds: readonly (MaxRate & { readonly cpuUsPerRequest: Record<string, number> })[];
}

export interface CompressionResult {
  readonly page: typeof PAGE;
  /** Who compressed on the fly: nginx (its image has the brotli modules) or the sidecar. */
  readonly compressedBy: 'nginx' | 'sidecar';
  readonly options: Omit<CompressionOptions, 'processes' | 'groups'>;
  readonly figures: readonly CompressionFigures[];
}

/**
 * A page of prose-like HTML of exactly `bytes`: sentences drawn from a small vocabulary by a
 * fixed pseudo-random sequence, so every run serves the same bytes, compressing like text does.
 */
export function longRead(bytes: number): string {
  const words = ['the', 'pod', 'runs', 'a', 'sidecar', 'in', 'front', 'of', 'nginx', 'and', 'every', 'request', 'goes', 'through',
    'envoy', 'before', 'it', 'reaches', 'site', 'with', 'its', 'own', 'cache', 'rules', 'gateway', 'mesh', 'health', 'checks'];
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const head = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>A long read</title><link rel="stylesheet" href="/css/style.css"></head><body><main>\n';
  const tail = '</main></body></html>\n';
  let body = '';
  while (head.length + body.length + tail.length < bytes) {
    const sentence = Array.from({ length: 8 + (next() % 12) }, () => words[next() % words.length]).join(' ');
    body += next() % 9 === 0 ? `<h2>${sentence}</h2>\n` : `<p>${sentence[0]!.toUpperCase()}${sentence.slice(1)}.</p>\n`;
  }
  return head + body.slice(0, bytes - head.length - tail.length) + tail;
}

export async function measureCompression(mesh: BenchMesh, options: CompressionOptions): Promise<CompressionResult> {
  const page = longRead(PAGE.bytes);
  await mesh.ws.write({
    [`site${PAGE.path}`]: page,
    [`site${PRECOMPRESSED}`]: page,
    [`site${PRECOMPRESSED}.gz`]: gzipSync(page, { level: 9 }),
    [`site${PRECOMPRESSED}.br`]: brotliCompressSync(page, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }),
  });
  // The benchmark's mesh runs the images play picks by default, as this does.
  const compressedBy = nginxHasBrotli((await resolveImages({})).nginx) ? 'nginx' : 'sidecar';
  const target = (encoding: Encoding) => {
    const { accept, path } = ENCODINGS[encoding];
    return { url: `${mesh.gatewayUrl}${path}`, ...(accept ? { headers: { 'accept-encoding': accept } } : {}) };
  };
  const encodings = Object.keys(ENCODINGS) as Encoding[];
  for (const encoding of encodings) await maxRate(target(encoding), 1);

  const runs = new Map<Encoding, CompressionFigures['rounds'][number][]>();
  const busy = new Map<Encoding, number[]>();
  for (let round = 1; round <= options.rounds; round++) {
    for (const encoding of encodings) {
      say(`compression round ${round}/${options.rounds}: ${encoding}`);
      const { value: rate, cpu } = await cpuDuring(options.processes, options.groups, () => maxRate(target(encoding), options.maxSeconds));
      const cpuUsPerRequest = Object.fromEntries(Object.entries(cpu.seconds).map(([k, sec]) => [k, (sec * 1e6) / rate.requests]));
      runs.set(encoding, [...(runs.get(encoding) ?? []), { ...rate, cpuUsPerRequest }]);
      busy.set(encoding, [...(busy.get(encoding) ?? []), cpu.machineBusy]);
    }
  }
  const figures = encodings.map((encoding): CompressionFigures => {
    const rounds = runs.get(encoding)!;
    const labels = Object.keys(rounds[0]!.cpuUsPerRequest);
    return {
      encoding,
      maxRps: median(rounds.map((r) => r.rps)),
      bytesPerRequest: median(rounds.map((r) => r.bytesRead / r.requests)),
      cpuUsPerRequest: Object.fromEntries(labels.map((k) => [k, median(rounds.map((r) => r.cpuUsPerRequest[k]!))])),
      machineBusy: median(busy.get(encoding)!),
      errors: rounds.reduce((n, r) => n + r.errors, 0),
      rounds,
    };
  });
  return { page: PAGE, compressedBy, options: { rounds: options.rounds, maxSeconds: options.maxSeconds }, figures };
}
