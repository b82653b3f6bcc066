import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { KUBE_ACTIVE_MARKER, KUBE_BIN, KUBE_UP_ERROR_ENV, KUBECONFIG_ENV, REPO_ROOT, liveClusterState } from './kube-cluster.js';
import { diffHostSnapshots, takeHostSnapshot } from './kube-host-snapshot.js';

/** Where the snapshot taken before kube-up is kept for the host check (test/e2e-kube-down/). */
export const HOST_BEFORE_ENV = 'PODVOY_KUBE_HOST_BEFORE';
/** Set to 1 once this run's kube-up started the cluster: only then may the run take it down. */
export const STARTED_BY_RUN_ENV = 'PODVOY_KUBE_STARTED_BY_RUN';
/** Set to 1 to run the cluster tests against a cluster scripts/kube-up already started. */
export const REUSE_ENV = 'PODVOY_KUBE_REUSE';

/** Runs scripts/NAME, its progress on our stderr; resolves with its stdout. */
export async function runKubeScript(name: string, args: readonly string[] = [], timeoutMs = 1_800_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'scripts', name), args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      // The script's own lines say why (the daemons' log tails it prints follow them).
      const own = stderr.split('\n').filter((line) => line.startsWith(`${name}: `)).slice(-3);
      reject(new Error(`scripts/${name} ${signal ? `was killed (${signal})` : `exited ${code}`}: ${own.join(' / ') || 'see its output above'}`));
    });
  });
}

/** How long the setup waits for a cluster another run (or user) has up to go down. */
const FOREIGN_CLUSTER_WAIT_MS = 40 * 60_000;

/**
 * Waits while another run's cluster is up: one host has room for one test cluster, and the
 * snapshot that the host check compares with must be of the host without it.
 */
async function waitForForeignClusterDown(): Promise<string | undefined> {
  const deadline = Date.now() + FOREIGN_CLUSTER_WAIT_MS;
  let state = await liveClusterState();
  if (state) console.error(`kube setup: a cluster this run did not start is up (${state}); waiting for it to go down`);
  while (state && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    state = await liveClusterState();
  }
  return state;
}

function exposeCluster(kubeconfig: string): void {
  process.env[KUBECONFIG_ENV] = kubeconfig;
  process.env.KUBECONFIG = kubeconfig;
  process.env.PATH = `${KUBE_BIN}${path.delimiter}${process.env.PATH ?? ''}`;
}

/**
 * Global setup of the `kube` project: a snapshot of the host, then one cluster (scripts/kube-up)
 * for all cluster tests. Its teardown is the safety net: kube-down if the cluster is still up
 * (the host check in test/e2e-kube-down/ normally took it down already), and a failed run if
 * the host then differs from the snapshot. A cluster that fails to come up does not stop the
 * run: the other projects' tests still run, and each cluster test fails with the reason.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  if (process.env[REUSE_ENV] === '1') {
    const state = existsSync(KUBE_ACTIVE_MARKER) ? readFileSync(KUBE_ACTIVE_MARKER, 'utf8').trim() : '';
    if (state) exposeCluster(path.join(state, 'kubeconfig'));
    else process.env[KUBE_UP_ERROR_ENV] = `${REUSE_ENV}=1 but no cluster is up: run scripts/kube-up first`;
    return async () => {};
  }
  // A cluster that is still up after the wait is someone else's: never snapshot it, start
  // beside it or take it down.
  const foreign = await waitForForeignClusterDown();
  // A marker with no live apiserver is a cluster a killed run left behind (kube-up would clean
  // it up too): cleaned before the snapshot, or the host check would expect its leftovers back.
  if (!foreign && existsSync(KUBE_ACTIVE_MARKER)) {
    console.error(`kube setup: cleaning up a cluster that did not stop (${readFileSync(KUBE_ACTIVE_MARKER, 'utf8').trim()})`);
    // Should that fail, kube-up tries again below, and the cluster tests fail with its reason.
    await runKubeScript('kube-down', [], 300_000).catch((error: Error) => console.error(`kube setup: ${error.message}`));
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'podvoy-kube-host-'));
  const before = await takeHostSnapshot();
  const beforeFile = path.join(scratch, 'before.json');
  await writeFile(beforeFile, JSON.stringify(before));
  process.env[HOST_BEFORE_ENV] = beforeFile;
  if (foreign) {
    process.env[KUBE_UP_ERROR_ENV] = `a cluster this run did not start (${foreign}) stayed up for ${FOREIGN_CLUSTER_WAIT_MS / 60_000} min; stop it (scripts/kube-down) or run against it with ${REUSE_ENV}=1`;
  } else {
    try {
      exposeCluster((await runKubeScript('kube-up')).trim().split('\n').pop()!);
      process.env[STARTED_BY_RUN_ENV] = '1';
    } catch (error) {
      process.env[KUBE_UP_ERROR_ENV] = (error as Error).message;
    }
  }
  return async () => {
    try {
      if (foreign) return;
      if (existsSync(KUBE_ACTIVE_MARKER)) await runKubeScript('kube-down', [], 300_000);
      const changes = diffHostSnapshots(before, await takeHostSnapshot());
      if (changes.length > 0) {
        console.error(`The test cluster left the host changed:\n  ${changes.join('\n  ')}`);
        process.exitCode = 1;
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}
