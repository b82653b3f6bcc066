import { readFile } from 'node:fs/promises';
import { InotifyLimitError } from '../errors.js';

/**
 * Host limits that decide how many Envoys can run. Every Envoy watches its mesh and identity
 * directories with inotify (filesystem xDS and SDS with `watched_directory`): up to 7 instances
 * each, all counted against one user, since every Envoy runs as uid 101. When the limit is
 * reached, a starting Envoy aborts (Envoy's watcher asserts that inotify_init succeeded).
 */

/** The most inotify instances one Envoy of podvoy's uses (a gateway with mTLS; a sidecar uses 4). */
export const INOTIFY_PER_ENVOY = 7;
/** What scripts/setup sets. */
export const INOTIFY_RECOMMENDED = 8192;

export async function inotifyInstanceLimit(): Promise<number | undefined> {
  const text = await readFile('/proc/sys/fs/inotify/max_user_instances', 'utf8').catch(() => undefined);
  const limit = Number(text?.trim());
  return Number.isInteger(limit) ? limit : undefined;
}

/** Refuses, before anything starts, a deployment whose Envoys cannot all watch their files. */
export async function assertInotifyRoom(envoys: number): Promise<void> {
  const limit = await inotifyInstanceLimit();
  if (limit !== undefined && envoys * INOTIFY_PER_ENVOY > limit) {
    throw new InotifyLimitError(limit, envoys, envoys * INOTIFY_PER_ENVOY, INOTIFY_RECOMMENDED);
  }
}
