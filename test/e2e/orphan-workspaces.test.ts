import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { play, ps } from '../../src/index.js';
import { cleanOrphanWorkspaces, freePort, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';

/** What the e2e project's global setup does first: take down what a killed test run left. */
describe('workspaces of killed test runs', () => {
  const made: Workspace[] = [];
  afterAll(async () => {
    for (const ws of made) await ws.cleanup();
  });

  it('are taken down and removed; a live run\'s workspace stays', async () => {
    const orphan = await workspace('blog');
    const live = await workspace('blog');
    made.push(orphan, live);
    const name = uniqueName('orphan');
    await play(await orphan.writeSpec(`name: ${name}\nservices:\n  web:\n    static: ./site\n    sidecar:\n      publish: ${await freePort()}\n`), { roots: orphan.roots });
    // Its owner: a process that has exited, as a SIGKILLed test run has.
    const gone = spawn('true');
    await once(gone, 'exit');
    await writeFile(path.join(orphan.dir, '.owner'), String(gone.pid));

    const orphans = await cleanOrphanWorkspaces();
    expect(orphans).toContain(orphan.dir);
    expect(orphans).not.toContain(live.dir);
    expect(existsSync(orphan.dir)).toBe(false);
    expect(existsSync(live.dir)).toBe(true);
    expect((await ps()).filter((p) => p.spec === name)).toEqual([]);
    expect(await podmanLines('network', 'ls', '--format', '{{.Name}}')).not.toContain(`podvoy-${name}`);
  });
});
