import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KUBE_ACTIVE_MARKER, KUBE_UP_ERROR_ENV, REPO_ROOT, runCommand } from '../support/kube-cluster.js';
import { HOST_BEFORE_ENV, runKubeScript, STARTED_BY_RUN_ENV } from '../support/kube-global-setup.js';
import { diffHostSnapshots, takeHostSnapshot, type HostSnapshot } from '../support/kube-host-snapshot.js';

/**
 * Throws when a cluster this run did not start is up (another user's `scripts/kube-up`, or
 * another test run's): these tests take clusters down, and must leave that one alone.
 */
function refuseForeignCluster(oursIsUp: boolean): void {
  if (oursIsUp || !existsSync(KUBE_ACTIVE_MARKER)) return;
  const upError = process.env[KUBE_UP_ERROR_ENV];
  throw new Error(
    `A cluster this test run did not start is up (${KUBE_ACTIVE_MARKER}); these tests would take it down. ` +
      `Run them when it is down (scripts/kube-down).${upError ? ` This run's kube-up: ${upError}` : ''}`,
  );
}

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
    refuseForeignCluster(process.env[STARTED_BY_RUN_ENV] === '1');
    const before = JSON.parse(await readFile(beforeFile, 'utf8')) as HostSnapshot;
    const started = Date.now();
    await runKubeScript('kube-down', [], 300_000);
    console.log(`kube-down took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });

  it('is idempotent: a second run with nothing up succeeds and changes nothing', async () => {
    refuseForeignCluster(false);
    const before = await takeHostSnapshot();
    await runKubeScript('kube-down', [], 60_000);
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });

  it('is run by a kube-up that fails half-way (the apiserver cannot bind), which leaves nothing behind', async () => {
    refuseForeignCluster(false);
    const before = await takeHostSnapshot();
    const state = await mkdtemp(path.join(os.tmpdir(), 'podvoy-kube-failed-'));
    const blocker = net.createServer().listen(6443, '127.0.0.1');
    try {
      await once(blocker, 'listening');
      const up = await runCommand(path.join(REPO_ROOT, 'scripts/kube-up'), ['--dir', path.join(state, 'cluster')], { timeoutMs: 180_000 });
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain('kube-apiserver exited while waiting for kube-apiserver /readyz');
      expect(up.stderr).toContain('address already in use');
    } finally {
      blocker.close();
      await rm(state, { recursive: true, force: true });
    }
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });

  it('cleans up after a kube-up that was killed half-way, found by its marker', async () => {
    refuseForeignCluster(false);
    const before = await takeHostSnapshot();
    const state = await mkdtemp(path.join(os.tmpdir(), 'podvoy-kube-killed-'));
    const dir = path.join(state, 'cluster');
    try {
      const up = spawn(path.join(REPO_ROOT, 'scripts/kube-up'), ['--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      up.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = once(up, 'close');
      const deadline = Date.now() + 120_000;
      while (!existsSync(path.join(dir, 'pids/kube-apiserver.pid'))) {
        if (up.exitCode !== null) {
          await closed;
          throw new Error(`kube-up exited ${up.exitCode} before it started kube-apiserver: ${stderr.trim()}`);
        }
        if (Date.now() > deadline) throw new Error('kube-up did not start kube-apiserver within 120 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      up.kill('SIGKILL');
      await closed;
      expect(existsSync(dir)).toBe(true);
      await runKubeScript('kube-down', [], 120_000);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
    expect(diffHostSnapshots(before, await takeHostSnapshot())).toEqual([]);
  });
});
