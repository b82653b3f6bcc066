import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readChangeMark } from '../../../../src/engine/rollout/change-mark.js';
import { withLock } from '../../../../src/engine/rollout/lock.js';
import type { StateRoots } from '../../../../src/mesh/layout.js';
import { LockTimeoutError } from '../../../../src/errors.js';

describe('withLock', () => {
  let dir: string;
  let file: string;
  let roots: StateRoots;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-lock-'));
    file = path.join(dir, 'spec.lock');
    roots = { stateDir: dir, runDir: dir };
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('runs one holder at a time, in turn', async () => {
    const events: string[] = [];
    const hold = (name: string) =>
      withLock(roots, 'spec', async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 150));
        events.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    // Either may win the race for the lock; what matters is that the other waits its turn.
    const first = events[0]!.split(' ')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(events).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(existsSync(file)).toBe(false);
  });

  it('holds our pid while it runs, and lets go when the work throws', async () => {
    await expect(
      withLock(roots, 'spec', async () => {
        expect(await readFile(file, 'utf8')).toBe(String(process.pid));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose holder no longer runs', async () => {
    // Pid 2^22 is above Linux's pid_max default, so no process has it.
    await writeFile(file, String(4_194_304));
    const before = readChangeMark(roots);
    expect(await withLock(roots, 'spec', async () => readChangeMark(roots))).not.toBe(before);
  });

  it('changes the mark as it lets go, also when the work throws, and never while held', async () => {
    const marks = [readChangeMark(roots)];
    await withLock(roots, 'spec', async () => {
      marks.push(readChangeMark(roots));
    });
    marks.push(readChangeMark(roots));
    await withLock(roots, 'spec', async () => {
      throw new Error('boom');
    }).catch(() => undefined);
    marks.push(readChangeMark(roots));
    expect(marks[0]).toBe('');
    expect(marks[1]).toBe(marks[0]);
    expect(new Set(marks.slice(1)).size).toBe(3);
  });

  it('gives up on a live holder after the time limit, saying who holds it', async () => {
    await writeFile(file, '1');
    const error = await withLock(roots, 'spec', async () => 'ran', 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Another podvoy command \\(pid 1\\) is changing this spec; waited 0 s for ${file.replace(/[.]/g, '\\.')}\\. Let it finish and try again; if no podvoy runs, remove that file\\.$`),
    );
  });
});
