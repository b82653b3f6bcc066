import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { down, type StateRoots } from '../src/index.js';

/** What every benchmark section shares: processes, clocks, statistics, scratch deployments. */

const execFileP = promisify(execFile);

/** Runs a program and returns its stdout and stderr; a non-zero exit rejects. */
export async function run(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  return execFileP(file, [...args], { maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 120_000, env: { ...process.env, ...options.env } });
}

/**
 * podman with the runtime podvoy names on every call (`--runtime runc`), so that the bare
 * baseline starts its containers exactly as podvoy does.
 */
export async function podman(...args: string[]): Promise<string> {
  return (await run('podman', ['--runtime', 'runc', ...args])).stdout.trim();
}

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` and returns its result with the milliseconds it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = now();
  const value = await fn();
  return { ms: now() - start, value };
}

/** Nearest-rank percentile (p in 0..100) of unsorted numbers; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** A port nothing listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** GET over a kept-alive connection; network errors resolve as status 0. */
export async function get(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: keepAlive, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/**
 * Polls `url` every `intervalMs` until `done` accepts an answer, and returns when that
 * happened (performance.now()). Bounded by `timeoutMs`. `fetch` replaces the kept-alive `get`.
 */
export async function pollUntil(
  url: string,
  done: (res: { status: number; body: string }) => boolean,
  options: { intervalMs: number; timeoutMs: number; fetch?: (url: string) => Promise<{ status: number; body: string }> },
): Promise<number> {
  const start = now();
  const fetch = options.fetch ?? ((u: string) => get(u, 1000));
  while (now() - start < options.timeoutMs) {
    const res = await fetch(url);
    if (done(res)) return now();
    await sleep(options.intervalMs);
  }
  throw new Error(`${url} did not give the expected answer within ${options.timeoutMs} ms`);
}

/** A scratch folder with its own podvoy state roots and the deployments played from it. */
export interface Workspace {
  readonly dir: string;
  readonly roots: StateRoots;
  /** Writes files (relative path -> content) under the workspace. */
  write(files: Record<string, string | Buffer>): Promise<void>;
  /** Writes the spec as `podvoy.yaml`, remembers its deployment for cleanup, returns its path. */
  writeSpec(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

const open = new Set<Workspace>();

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-bench-'));
  const roots = { stateDir: path.join(dir, '.state'), runDir: path.join(dir, '.run') };
  const names = new Set<string>();
  const ws: Workspace = {
    dir,
    roots,
    async write(files) {
      for (const [rel, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
        await writeFile(path.join(dir, rel), content);
      }
    },
    async writeSpec(name, text) {
      names.add(name);
      const file = path.join(dir, 'podvoy.yaml');
      await writeFile(file, text);
      return file;
    },
    async cleanup() {
      for (const name of names) await down(name, { roots }).catch((e: Error) => console.error(`bench: down ${name}: ${e.message}`));
      await rm(dir, { recursive: true, force: true });
      open.delete(ws);
    },
  };
  open.add(ws);
  return ws;
}

const cleanups = new Set<() => Promise<void>>();

/**
 * Registers what must be undone however the run ends (a cluster the benchmark started, a
 * namespace on a cluster it did not). Returns a function that undoes it now, once: a second
 * call (a signal's cleanupAll beside a `finally`) waits for the first.
 */
export function onCleanup(undo: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const once = (): Promise<void> =>
    (running ??= undo()
      .catch((e: Error) => console.error(`bench: cleanup: ${e.message}`))
      .finally(() => cleanups.delete(once)));
  cleanups.add(once);
  return once;
}

/** Removes every workspace still open (and so everything the benchmark played), then the rest, newest first. */
export async function cleanupAll(): Promise<void> {
  for (const ws of [...open]) await ws.cleanup();
  for (const undo of [...cleanups].reverse()) await undo();
}

/** A deployment name of our own: never one that a test or a user runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

/** Host PID of each running container of a deployment, by container name. */
export async function containerPids(specName: string): Promise<Record<string, number>> {
  const out = await podman('ps', '--filter', `name=^${specName}-`, '--format', '{{.Names}} {{.Pid}}');
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([name]) => !name!.endsWith('-infra'))
      .map(([name, pid]) => [name!, Number(pid)]),
  );
}

/** The host PID of a pod's infra container: `nsenter -t <pid> -n` enters the pod's network. */
export async function netnsPid(pod: string): Promise<number> {
  const infra = await podman('pod', 'inspect', pod, '--format', '{{.InfraContainerID}}');
  return Number(await podman('inspect', '--format', '{{.State.Pid}}', infra));
}

/** A progress line on stderr, so stdout keeps only the tables. */
export function say(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Polls a URL from inside a pod's network namespace until it answers 200. */
export async function answersInside(netnsPid: number, url: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const code = await run('nsenter', ['-t', String(netnsPid), '-n', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', url]).then(
      (r) => r.stdout,
      () => '000',
    );
    if (code === '200') return;
    await sleep(50);
  }
  throw new Error(`${url} (inside the pod) did not answer 200 within ${timeoutMs} ms`);
}
