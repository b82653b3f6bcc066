import { readdir, readFile } from 'node:fs/promises';
import { adminGet } from '../src/engine/envoy/http.js';
import { sleep } from './support.js';

/**
 * Resident memory of a container's processes, from /proc/<pid>/status on the host: the
 * container's main process and every process below it (nginx: master and workers).
 */
export interface Rss {
  /** VmRSS summed over the process tree, KiB: what `ps` shows as RSS. */
  readonly rssKiB: number;
  /** RssAnon summed: the heap and stacks, without the mapped binary and libraries. */
  readonly anonKiB: number;
  /** Pss summed: pages shared with other processes (one Envoy binary, mapped by every Envoy) counted in shares. */
  readonly pssKiB: number;
  readonly processes: number;
}

/** A process and every process below it. */
export async function descendants(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const children = new Set<number>();
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of text.split(/\s+/).filter(Boolean)) children.add(Number(child));
  }
  const below = await Promise.all([...children].map(descendants));
  return [pid, ...below.flat()];
}

/** The resident memory of a process and all its descendants. */
export async function treeRss(pid: number): Promise<Rss> {
  let rssKiB = 0;
  let anonKiB = 0;
  let pssKiB = 0;
  const pids = await descendants(pid);
  const kib = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  for (const p of pids) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    rssKiB += kib(status, 'VmRSS');
    anonKiB += kib(status, 'RssAnon');
    pssKiB += kib(await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => ''), 'Pss');
  }
  return { rssKiB, anonKiB, pssKiB, processes: pids.length };
}

/** The resident memory of several containers at once, by name. */
export async function rssOf(pids: Readonly<Record<string, number>>): Promise<Record<string, Rss>> {
  const entries = await Promise.all(Object.entries(pids).map(async ([name, pid]) => [name, await treeRss(pid)] as const));
  return Object.fromEntries(entries);
}

/** The larger of two readings, per container. */
export function peakOf(a: Readonly<Record<string, Rss>>, b: Readonly<Record<string, Rss>>): Record<string, Rss> {
  const out: Record<string, Rss> = { ...a };
  for (const [name, rss] of Object.entries(b)) if (!out[name] || rss.rssKiB > out[name]!.rssKiB) out[name] = rss;
  return out;
}

/** Runs `work` while reading the containers' memory every `intervalMs`; returns its result and the peak of each. */
export async function sampleDuring<T>(
  pids: Readonly<Record<string, number>>,
  work: () => Promise<T>,
  intervalMs = 250,
): Promise<{ value: T; peak: Record<string, Rss> }> {
  let done = false;
  let peak: Record<string, Rss> = {};
  const sampler = (async () => {
    while (!done) {
      peak = peakOf(peak, await rssOf(pids));
      await sleep(intervalMs);
    }
  })();
  try {
    return { value: await work(), peak };
  } finally {
    done = true;
    await sampler;
  }
}

/** What Envoy's allocator reports (admin `/memory`), KiB: what its heap holds against what it keeps. */
export interface EnvoyHeap {
  /** Bytes in use by Envoy's objects. */
  readonly allocatedKiB: number;
  /** The heap tcmalloc has reserved from the system, free pages included. */
  readonly heapSizeKiB: number;
}

export async function envoyHeap(adminSocket: string): Promise<EnvoyHeap> {
  const res = await adminGet(adminSocket, '/memory');
  const json = JSON.parse(res.body.toString('utf8')) as { allocated?: string; heap_size?: string };
  return { allocatedKiB: Number(json.allocated ?? NaN) / 1024, heapSizeKiB: Number(json.heap_size ?? NaN) / 1024 };
}
