import { podPaths, type StateRoots } from '../../mesh/layout.js';
import { GATEWAY } from '../../mesh/names.js';
import { serviceOfCluster } from '../../mesh/contract.js';
import { NotDeployedError } from '../../errors.js';
import { listPods } from '../podman/pods.js';
import { readSample, type EnvoySample } from './metrics.js';
import { INBOUND_SCOPE, clusterScope, deltaOf, signalsOf, sumDeltas, type Delta, type Signals } from './signals.js';

/** One Envoy's sample at one moment, or none when it did not answer. */
export interface PodSample {
  readonly pod: string;
  readonly service: string;
  readonly sample?: EnvoySample;
}

/**
 * How one service looks from one place: `gateway` (the gateway's cluster of it), `caller` (the
 * cluster of it in a sidecar of the service `from`), or `inbound` (its own sidecars' listener,
 * every caller together).
 */
export type View = 'gateway' | 'caller' | 'inbound';

export interface TopRow extends Signals {
  readonly service: string;
  readonly view: View;
  /** The service whose Envoys report this row (`gateway` for the gateway). */
  readonly from: string;
  /** With `wide`: the one pod whose Envoy reports this row. */
  readonly pod?: string;
}

export interface TopReport {
  readonly spec: string;
  readonly windowSeconds: number;
  /** When the window began and ended (ISO 8601): the first Envoy's first sample, the last one's second. */
  readonly from: string;
  readonly to: string;
  readonly rows: readonly TopRow[];
}

/** Reads every Envoy of a deployment at once; one that does not answer has no sample. */
export async function sampleDeployment(specName: string, roots: StateRoots): Promise<PodSample[]> {
  const pods = (await listPods(specName)).filter((p) => p.status === 'Running');
  return Promise.all(
    pods.map(async (pod) => {
      const sample = await readSample(podPaths(roots, specName, pod.name).adminSocket).catch(() => undefined);
      return { pod: pod.name, service: pod.service, ...(sample ? { sample } : {}) };
    }),
  );
}

/** The samples of a deployment that runs; nothing to watch otherwise. */
function deployed(specName: string, samples: PodSample[]): PodSample[] {
  if (!samples.length) throw new NotDeployedError(`Nothing of spec "${specName}" is running. Run \`podvoy play\` first.`);
  return samples;
}

/** The services a sample has a cluster of (the stats are there once Envoy loaded the cluster). */
function clustersIn(sample: EnvoySample): string[] {
  const clusters = new Set<string>();
  for (const name of [...sample.values.keys(), ...sample.histograms.keys()]) {
    const cluster = /^cluster\.([^.]+)\./.exec(name)?.[1];
    if (cluster && serviceOfCluster(cluster) !== undefined) clusters.add(cluster);
  }
  return [...clusters].sort();
}

/**
 * The rows of `top` from two samples of a deployment (pure). Pods only in one of the samples
 * (started or removed in between) are left out of that window. Without `wide`, the Envoys of
 * one service (replicas) are added up.
 */
export function topRows(before: readonly PodSample[], after: readonly PodSample[], wide: boolean): TopRow[] {
  const groups = new Map<string, { row: Omit<TopRow, keyof Signals>; deltas: Delta[] }>();
  const add = (row: Omit<TopRow, keyof Signals>, delta: Delta) => {
    const key = JSON.stringify([row.service, row.view, row.from, row.pod ?? '']);
    const group = groups.get(key) ?? { row, deltas: [] };
    group.deltas.push(delta);
    groups.set(key, group);
  };
  for (const now of after) {
    const then = before.find((b) => b.pod === now.pod)?.sample;
    if (!now.sample || !then) continue;
    const pod = wide ? { pod: now.pod } : {};
    for (const cluster of clustersIn(now.sample)) {
      const view: View = now.service === GATEWAY ? 'gateway' : 'caller';
      add({ service: serviceOfCluster(cluster)!, view, from: now.service, ...pod }, deltaOf(clusterScope(cluster), then, now.sample));
    }
    if (now.service !== GATEWAY) add({ service: now.service, view: 'inbound', from: now.service, ...pod }, deltaOf(INBOUND_SCOPE, then, now.sample));
  }
  const order: Record<View, number> = { gateway: 0, caller: 1, inbound: 2 };
  return [...groups.values()]
    .map(({ row, deltas }) => ({ ...row, ...signalsOf(sumDeltas(deltas)) }))
    .sort(
      (a, b) =>
        a.service.localeCompare(b.service) ||
        order[a.view] - order[b.view] ||
        a.from.localeCompare(b.from) ||
        (a.pod ?? '').localeCompare(b.pod ?? ''),
    );
}

export interface TopOptions {
  readonly windowMs: number;
  readonly wide?: boolean;
}

/** Two samples of every Envoy, `windowMs` apart, and the golden signals between them. */
export async function readTop(specName: string, roots: StateRoots, options: TopOptions): Promise<TopReport> {
  const before = deployed(specName, await sampleDeployment(specName, roots));
  await new Promise((resolve) => setTimeout(resolve, options.windowMs));
  const after = await sampleDeployment(specName, roots);
  return reportOf(specName, before, after, Boolean(options.wide));
}

export function reportOf(specName: string, before: readonly PodSample[], after: readonly PodSample[], wide: boolean): TopReport {
  const times = (samples: readonly PodSample[]) => samples.flatMap((s) => (s.sample ? [s.sample.at] : []));
  const [first, last] = [times(before), times(after)];
  const seconds = first.length && last.length ? (Math.max(...last) - Math.min(...first)) / 1000 : 0;
  // Sample times are on the monotonic clock of this process; its origin gives them a date.
  const iso = (at: number) => new Date(performance.timeOrigin + at).toISOString();
  const [start, end] = first.length && last.length ? [Math.min(...first), Math.max(...last)] : [performance.now(), performance.now()];
  return { spec: specName, windowSeconds: seconds, from: iso(start), to: iso(end), rows: topRows(before, after, wide) };
}

export interface WatchTopOptions extends TopOptions {
  /** How often every Envoy is sampled and `onReport` called. */
  readonly refreshMs: number;
  readonly signal: AbortSignal;
  readonly onReport: (report: TopReport) => void;
}

/**
 * Samples every Envoy every `refreshMs` and reports the signals over the last `windowMs` (over
 * the time elapsed, until a window has passed), until `signal` aborts.
 */
export async function watchDeploymentTop(specName: string, roots: StateRoots, options: WatchTopOptions): Promise<void> {
  const samples: { at: number; pods: PodSample[] }[] = [];
  while (!options.signal.aborted) {
    const pods = await sampleDeployment(specName, roots);
    // When the Envoys were read (the earliest of them), not when the round began.
    const at = Math.min(performance.now(), ...pods.flatMap((p) => (p.sample ? [p.sample.at] : [])));
    samples.push({ at, pods: samples.length ? pods : deployed(specName, pods) });
    // Keep the newest sample at least a window old, and every one after it.
    while (samples.length > 2 && samples[1]!.at <= at - options.windowMs) samples.shift();
    if (samples.length > 1) options.onReport(reportOf(specName, samples[0]!.pods, samples.at(-1)!.pods, Boolean(options.wide)));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.refreshMs);
      options.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
