import { readFile, rm } from 'node:fs/promises';
import { MeshFileRejectedError, MeshTimeoutError, PodvoyError } from '../../errors.js';
import { ENVOY_STATS } from '../../mesh/contract.js';
import type { MeshFile } from '../../mesh/registry.js';
import { clusterStatuses, statValue, xdsVersions } from './admin.js';
import { ensureDir, writeFileAtomic } from '../files.js';
import { refusalWatch } from './refusal.js';
import path from 'node:path';

/** An Envoy that watches mesh files: the gateway or a service's sidecar, reached by its admin socket. */
export interface WatchingEnvoy {
  /** `gateway` or the service's name, as in MeshFile.envoy. */
  readonly envoy: string;
  readonly pod: string;
  readonly socket: string;
}


/** Writes the files whose content changed (each atomically) and returns those. */
export async function writeMeshFiles(files: readonly MeshFile[]): Promise<MeshFile[]> {
  const changed: MeshFile[] = [];
  for (const file of files) {
    const current = await readFile(file.path, 'utf8').catch(() => undefined);
    if (current === file.text) continue;
    // Envoy reads these as its unprivileged user; they hold no secrets.
    await ensureDir(path.dirname(file.path), 0o755);
    await writeFileAtomic(file.path, file.text);
    changed.push(file);
  }
  return changed;
}

async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  for (;;) {
    // An admin API that does not answer yet is worth another try; a podvoy error is final.
    if (await check().catch((error: unknown) => {
      if (error instanceof PodvoyError) throw error;
      return false;
    })) return;
    if (Date.now() - started > timeoutMs) throw new MeshTimeoutError(what, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}


/**
 * Waits until every Envoy watching a file reports that file's version through its admin API.
 * A file Envoy refuses (its log says so since `writtenSince`, a moment before the files were
 * written) fails within half a second, with what Envoy said, instead of at the time limit.
 */
export async function waitForFiles(
  files: readonly MeshFile[],
  envoys: readonly WatchingEnvoy[],
  timeoutMs: number,
  writtenSince: Date,
): Promise<void> {
  for (const file of files) {
    for (const envoy of envoys.filter((e) => e.envoy === file.envoy)) {
      const refused = refusalWatch(envoy.pod, writtenSince);
      await poll(`${envoy.pod} to load ${file.path} (version ${file.version})`, timeoutMs, async () => {
        if ((await xdsVersions(envoy.socket))[file.kind] === file.version) return true;
        const why = await refused();
        if (why !== undefined) throw new MeshFileRejectedError(file.path, envoy.pod, why);
        return false;
      });
    }
  }
}

/** The hosts an Envoy has in its clusters now, healthy or not, as `hostKey`s (none if its admin does not answer). */
export async function hostsSeen(envoy: WatchingEnvoy): Promise<Set<string>> {
  const clusters = await clusterStatuses(envoy.socket).catch(() => []);
  return new Set(clusters.flatMap((c) => c.hosts.map((h) => hostKey(c.name, h.hostname))));
}

export function hostKey(cluster: string, pod: string): string {
  return `${cluster}/${pod}`;
}

/** Waits until an Envoy sees each pod as a healthy host of the named cluster. */
export async function waitForHealthyHosts(
  envoy: WatchingEnvoy,
  hosts: readonly { cluster: string; pod: string }[],
  timeoutMs: number,
): Promise<void> {
  if (!hosts.length) return;
  const waitedFor = `${envoy.pod} to see ${hosts.map((h) => h.pod).join(', ')} healthy`;
  // What the Envoy last said of the hosts it does not see healthy, for a time-out's message.
  let lastSeen = 'its admin API never answered';
  await poll(waitedFor, timeoutMs, async () => {
    const clusters = await clusterStatuses(envoy.socket);
    const unseen = hosts.flatMap(({ cluster, pod }) => {
      const host = clusters.find((c) => c.name === cluster)?.hosts.find((h) => h.hostname === pod);
      if (host?.healthy) return [];
      return [host ? `${pod} unhealthy (${host.failures.join(', ') || 'not checked yet'})` : `${pod} not in ${cluster} (its name not resolved yet, or the cluster still warming)`];
    });
    lastSeen = unseen.join('; ');
    return unseen.length === 0;
  }).catch((error: unknown) => {
    throw error instanceof MeshTimeoutError ? new MeshTimeoutError(`${waitedFor}; it last saw ${lastSeen}`, error.waitedMs) : error;
  });
}

/**
 * Waits until a deregistered pod's sidecar has no request in flight, so stopping it cuts none
 * off. Bounded: a client holding a request longer than the limit is cut off after it.
 */
export async function drain(envoy: WatchingEnvoy, timeoutMs: number): Promise<void> {
  await poll(`${envoy.pod} to finish its requests`, timeoutMs, async () => {
    return (await statValue(envoy.socket, ENVOY_STATS.inboundActive)) === 0;
  }).catch((error: unknown) => {
    if (!(error instanceof MeshTimeoutError)) throw error;
  });
}

/** The current content of mesh files (undefined where missing), to put back on rollback. */
export type MeshSnapshot = ReadonlyMap<string, string | undefined>;

export async function snapshotMeshFiles(files: readonly MeshFile[]): Promise<MeshSnapshot> {
  const entries = await Promise.all(files.map(async (f) => [f.path, await readFile(f.path, 'utf8').catch(() => undefined)] as const));
  return new Map(entries);
}

export async function restoreMeshFiles(snapshot: MeshSnapshot): Promise<void> {
  for (const [file, text] of snapshot) {
    if (text === undefined) await rm(file, { force: true });
    else await writeFileAtomic(file, text);
  }
}
