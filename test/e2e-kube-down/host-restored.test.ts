import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { HOST_BEFORE_ENV, runKubeScript } from '../support/kube-global-setup.js';
import { diffHostSnapshots, takeHostSnapshot, type HostSnapshot } from '../support/kube-host-snapshot.js';

// Runs after every cluster test (vitest project "kube-down", a later sequence group than "kube").
describe('scripts/kube-down', () => {
  it('leaves iptables, sysctls, links, addresses, routes, mounts, cgroups and podman networks as they were', async () => {
    const beforeFile = process.env[HOST_BEFORE_ENV];
    if (!beforeFile) {
      throw new Error(
        `${HOST_BEFORE_ENV} is not set: this check compares with the snapshot the "kube" project's global setup takes; ` +
          'run it with that project (npx vitest run --project kube --project kube-down), and without PODVOY_KUBE_REUSE.',
      );
    }
    const before = JSON.parse(await readFile(beforeFile, 'utf8')) as HostSnapshot;
    const started = Date.now();
    await runKubeScript('kube-down', [], 300_000);
    console.log(`kube-down took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });

  it('is idempotent: a second run with nothing up succeeds and changes nothing', async () => {
    const before = await takeHostSnapshot();
    await runKubeScript('kube-down', [], 60_000);
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });
});
