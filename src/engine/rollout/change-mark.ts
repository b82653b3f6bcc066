import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { changeMarkFile, type StateRoots } from '../../mesh/layout.js';

/**
 * The change mark: rewritten whenever a command lets go of a spec's lock, so that a listing of
 * pods taken before the lock (the CLI's, started while Node.js loads podvoy) can tell whether
 * any podvoy command may have changed pods since it began.
 */

let marks = 0;

/**
 * Marks that pods may have changed: as a lock is let go, or taken over from a holder that died
 * (which may have changed pods without marking it).
 */
export async function markChange(roots: StateRoots): Promise<void> {
  await writeFile(changeMarkFile(roots), `${process.pid}.${Date.now()}.${++marks}\n`);
}

/** The mark now ('' before any was written). Synchronous, for the CLI's first moments. */
export function readChangeMark(roots: StateRoots): string {
  try {
    return readFileSync(changeMarkFile(roots), 'utf8');
  } catch {
    return '';
  }
}
