import { setTimeout as sleep } from 'node:timers/promises';
import { PodRemovalError } from '../../errors.js';
import { LABELS } from '../../mesh/names.js';
import { podman, podmanSucceeds } from './podman.js';
import { containerInspectArgs, podLogsArgs, podNamesArgs, podPsArgs, podRmArgs, podStopArgs } from './args.js';

/** A pod podvoy played, as podman reports it. */
export interface DeployedPod {
  readonly name: string;
  readonly id: string;
  /** podman's pod status: Running, Degraded, Exited, Created, ... */
  readonly status: string;
  readonly spec: string;
  readonly service: string;
  readonly revision: string;
  readonly url?: string;
  readonly containers: readonly { readonly name: string; readonly status: string }[];
}

interface PodPsEntry {
  Name: string;
  Id: string;
  Status: string;
  Labels?: Record<string, string>;
  Containers?: { Names: string; Status: string }[];
}

/** Pods podvoy played, all of them or one spec's, in a stable order. */
export async function listPods(specName?: string): Promise<DeployedPod[]> {
  return parsePodList((await podman(podPsArgs(specName))).stdout);
}

/** `podman pod ps --format json` as podvoy's pods, in a stable order. */
export function parsePodList(stdout: string): DeployedPod[] {
  const entries = (stdout.trim() ? JSON.parse(stdout) : []) as PodPsEntry[];
  return entries
    .map((entry) => {
      const labels = entry.Labels ?? {};
      return {
        name: entry.Name,
        id: entry.Id,
        status: entry.Status,
        spec: labels[LABELS.spec] ?? '',
        service: labels[LABELS.service] ?? '',
        revision: labels[LABELS.revision] ?? '',
        ...(labels[LABELS.url] ? { url: labels[LABELS.url] } : {}),
        containers: (entry.Containers ?? [])
          .filter((c) => !c.Names.endsWith('-infra'))
          .map((c) => ({ name: c.Names, status: c.Status })),
      };
    })
    .sort((a, b) => a.spec.localeCompare(b.spec) || a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

/** What podman knows of one container that matters for readiness. */
export interface ContainerState {
  readonly name: string;
  readonly status: string;
  readonly exitCode: number;
  readonly restarts: number;
  /** Address on each network, by network name. */
  readonly addresses: Readonly<Record<string, string>>;
}

interface InspectEntry {
  Name: string;
  RestartCount?: number;
  State: { Status: string; ExitCode: number };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export async function inspectContainers(names: readonly string[]): Promise<ContainerState[]> {
  const { stdout } = await podman(containerInspectArgs(names));
  return (JSON.parse(stdout) as InspectEntry[]).map((entry) => ({
    name: entry.Name,
    status: entry.State.Status,
    exitCode: entry.State.ExitCode,
    restarts: entry.RestartCount ?? 0,
    addresses: Object.fromEntries(
      Object.entries(entry.NetworkSettings?.Networks ?? {}).map(([net, settings]) => [net, settings.IPAddress ?? '']),
    ),
  }));
}

/** The last lines each container of a pod wrote, for error messages. */
export async function tailPodLogs(pod: string, lines: number): Promise<string> {
  try {
    const { stdout, stderr } = await podman(podLogsArgs(pod, { tail: lines }));
    return [stdout, stderr].filter(Boolean).join('\n');
  } catch {
    return '';
  }
}

const REMOVE_ATTEMPTS = 3;

/**
 * Stops, then removes pods. `pod rm --force` alone on a running pod takes seconds longer than
 * a stop followed by a remove (podman 4.3), whatever `--time` says.
 */
export async function removePods(pods: readonly string[], stopSeconds: number): Promise<void> {
  if (!pods.length) return;
  // A pod that is gone already is no failure: the remove below says so if it matters.
  await podmanSucceeds(podStopArgs(pods, stopSeconds));
  // A remove that fails half-way (seen under load) leaves the pod, status Created, until podman
  // is asked again: asked up to REMOVE_ATTEMPTS times, and checked.
  let left = pods;
  for (let attempt = 1; ; attempt++) {
    const failure = await podman(podRmArgs(left, stopSeconds)).then(
      () => '',
      (error: Error) => error.message,
    );
    left = (await podman(podNamesArgs(left))).stdout.split('\n').filter(Boolean);
    if (!left.length) return;
    if (attempt === REMOVE_ATTEMPTS) throw new PodRemovalError(left, failure || `podman removed ${left.length > 1 ? 'them' : 'it'} without an error, ${REMOVE_ATTEMPTS} times, yet ${left.length > 1 ? 'they are' : 'it is'} still there.`);
    await sleep(500);
  }
}
