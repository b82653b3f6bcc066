import { open, readFile, rm } from 'node:fs/promises';
import { LockTimeoutError } from '../../errors.js';
import { lockFile, type StateRoots } from '../../mesh/layout.js';
import { ensureDir } from '../files.js';
import { markChange } from './change-mark.js';

/** Whether a process with this pid runs (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding a spec's exclusive lock file (created with O_EXCL, holding our pid),
 * so that two podvoy commands never change one spec's pods or mesh files at once. A lock left
 * by a process that no longer runs (podvoy killed mid-play) is taken over.
 */
export async function withLock<T>(roots: StateRoots, specName: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const file = lockFile(roots, specName);
  await ensureDir(roots.stateDir);
  const started = Date.now();
  let holder = '';
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      holder = (await readFile(file, 'utf8').catch(() => '')).trim();
      const pid = Number(holder);
      // An empty file is a lock being written this instant; only a dead pid is stale.
      if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) {
        await markChange(roots);
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new LockTimeoutError(file, holder || '?', Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await markChange(roots).finally(() => rm(file, { force: true }));
  }
}
