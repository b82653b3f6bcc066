import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveImages } from '../../src/engine/podman/images.js';
import { podman } from '../../src/engine/podman/podman.js';
import { removePods } from '../../src/engine/podman/pods.js';
import { podmanLines, uniqueName } from '../support/e2e.js';

const exec = promisify(execFile);

/** removePods on the real podman, also when podman's first remove fails half-way. */
describe('removing pods', () => {
  const pinned: string[] = [];
  const pods: string[] = [];
  afterEach(async () => {
    for (const file of pinned) await exec('chattr', ['-i', file]);
    await podman(['pod', 'rm', '--force', '--ignore', ...pods.splice(0)]);
    // podman forgets a container whose files it could not delete: that directory is left to us.
    for (const file of pinned.splice(0)) await rm(path.dirname(path.dirname(file)), { recursive: true, force: true });
  });

  const podWithContainer = async () => {
    const pod = uniqueName('rm');
    pods.push(pod);
    const image = (await resolveImages({})).nginx;
    await podman(['pod', 'create', '--name', pod]);
    await podman(['create', '--pod', pod, '--name', `${pod}-app`, image, 'sleep', '60']);
    await podman(['pod', 'start', pod]);
    return pod;
  };
  const existing = async () => podmanLines('pod', 'ps', '--format', '{{.Name}}');

  it('stops and removes running pods', async () => {
    const both = [await podWithContainer(), await podWithContainer()];
    await removePods(both, 0);
    expect((await existing()).filter((p) => both.includes(p))).toEqual([]);
  });

  it('removes a pod whose first remove failed half-way, as one did under load (left in status Created)', async () => {
    const pod = await podWithContainer();
    // A file podman cannot delete makes `pod rm` fail after it let go of the container; the
    // pod stays, status Created, until podman is asked again.
    const [staticDir] = await podmanLines('inspect', '--format', '{{.StaticDir}}', `${pod}-app`);
    const pin = path.join(staticDir!, 'pin');
    await writeFile(pin, '');
    await exec('chattr', ['+i', pin]);
    pinned.push(pin);
    await removePods([pod], 0);
    expect(await existing()).not.toContain(pod);
  });
});
