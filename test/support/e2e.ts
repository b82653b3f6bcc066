import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { isAlive } from '../../src/engine/rollout/lock.js';
import { down, type StateRoots } from '../../src/index.js';

const exec = promisify(execFile);

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

/** A unique deployment name, so a test never touches what another test or a user runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

/** A scratch copy of an example, with its own state directories, removed by `cleanup`. */
export interface Workspace {
  readonly dir: string;
  readonly roots: StateRoots;
  /** Writes `podvoy.yaml` in the workspace and returns its path. */
  writeSpec(text: string): Promise<string>;
  /** Downs every deployment this workspace played, then removes the workspace. */
  cleanup(): Promise<void>;
  readonly names: Set<string>;
}

const WORKSPACE_PREFIX = 'podvoy-e2e-';
/** Holds the pid of the test process that made a workspace. */
const OWNER_FILE = '.owner';
const SPEC_FILE = 'podvoy.yaml';

const rootsOf = (dir: string): StateRoots => ({ stateDir: path.join(dir, '.state'), runDir: path.join(dir, '.run') });
const specNameIn = (text: string): string | undefined => /^name: (\S+)/m.exec(text)?.[1];

export async function workspace(example: string): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), WORKSPACE_PREFIX));
  await writeFile(path.join(dir, OWNER_FILE), String(process.pid));
  await cp(path.join(PACKAGE_ROOT, 'examples', example), dir, { recursive: true });
  const roots = rootsOf(dir);
  const names = new Set<string>();
  return {
    dir,
    roots,
    names,
    async writeSpec(text) {
      const name = specNameIn(text);
      if (name) names.add(name);
      const file = path.join(dir, SPEC_FILE);
      await writeFile(file, text);
      return file;
    },
    async cleanup() {
      for (const name of names) await down(name, { roots }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Downs what test runs that were killed left in their workspaces (a SIGKILLed run cleans up
 * nothing), then removes those workspaces; returns them. A workspace whose test process lives
 * stays, and so does one without an owner for its first minute (it is being made).
 */
export async function cleanOrphanWorkspaces(): Promise<string[]> {
  const orphans: string[] = [];
  for (const entry of await readdir(os.tmpdir())) {
    if (!entry.startsWith(WORKSPACE_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), entry);
    const owner = Number(await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => ''));
    if (owner ? isAlive(owner) : Date.now() - (await stat(dir)).mtimeMs < 60_000) continue;
    const roots = rootsOf(dir);
    // Deployments with state, and the one the spec names (a play killed before it wrote any).
    const names = new Set((await readdir(roots.stateDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name));
    const named = specNameIn(await readFile(path.join(dir, SPEC_FILE), 'utf8').catch(() => ''));
    if (named) names.add(named);
    for (const name of names) await down(name, { roots });
    await rm(dir, { recursive: true, force: true });
    orphans.push(dir);
  }
  return orphans;
}

/** Runs podman directly, for checks that must not trust podvoy's own view. */
export async function podmanJson<T>(...args: string[]): Promise<T> {
  const { stdout } = await exec('podman', [...args, '--format', 'json']);
  return JSON.parse(stdout) as T;
}

export async function podmanLines(...args: string[]): Promise<string[]> {
  const { stdout } = await exec('podman', args);
  return stdout.split('\n').filter(Boolean);
}

/** Runs the built CLI as a user would. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(PACKAGE_ROOT, 'bin/podvoy.js'), ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Whether a TCP connection to host:port is accepted within a second. */
export async function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
