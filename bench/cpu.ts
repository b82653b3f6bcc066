import { readFile } from 'node:fs/promises';
import { descendants } from './memory.js';

/**
 * CPU time, from /proc: per container (its process tree, all threads) and for the whole
 * machine, so that a load run can say what each hop costs per request and whether the
 * machine's cores were the limit.
 */

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** The fields of /proc/<pid>/stat after the command's closing parenthesis: [0] is field 3 (state). */
async function statFields(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system, fields 14 and 15) one process has used so far. */
async function processCpuSeconds(pid: number): Promise<number> {
  const fields = await statFields(pid);
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS;
}

/** The parent of a process (field 4): for a container's main process, its conmon. */
export async function parentPid(pid: number): Promise<number> {
  return Number((await statFields(pid))[1]);
}

/** CPU seconds a process tree has used so far. */
async function treeCpuSeconds(pid: number): Promise<number> {
  let seconds = 0;
  for (const p of await descendants(pid)) seconds += await processCpuSeconds(p);
  return seconds;
}

/** CPU seconds several single processes (not their trees) have used so far. */
async function sumCpuSeconds(pids: readonly number[]): Promise<number> {
  let seconds = 0;
  for (const p of pids) seconds += await processCpuSeconds(p);
  return seconds;
}

/** The machine's busy and total CPU seconds so far, over all cores (/proc/stat). */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / TICKS, total: (busy + idle! + iowait!) / TICKS };
}

export interface CpuUse {
  /** CPU seconds each process tree used during the work, by the caller's label. */
  readonly seconds: Record<string, number>;
  /** Share of all cores busy during the work, 0..1 (anything on the machine, the load generator included). */
  readonly machineBusy: number;
}

/**
 * Runs `work` and returns its result with the CPU that the machine used meanwhile, and each of
 * `trees` (a process and its descendants) and `groups` (single processes, added up).
 */
export async function cpuDuring<T>(
  trees: Readonly<Record<string, number>>,
  groups: Readonly<Record<string, readonly number[]>>,
  work: () => Promise<T>,
): Promise<{ value: T; cpu: CpuUse }> {
  const read = async (): Promise<Record<string, number>> => ({
    ...Object.fromEntries(await Promise.all(Object.entries(trees).map(async ([k, pid]) => [k, await treeCpuSeconds(pid)] as const))),
    ...Object.fromEntries(await Promise.all(Object.entries(groups).map(async ([k, pids]) => [k, await sumCpuSeconds(pids)] as const))),
  });
  const [before, machineBefore] = [await read(), await machineCpu()];
  const value = await work();
  const [after, machineAfter] = [await read(), await machineCpu()];
  const seconds = Object.fromEntries(Object.keys(before).map((k) => [k, after[k]! - before[k]!]));
  const machineBusy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
  return { value, cpu: { seconds, machineBusy } };
}
