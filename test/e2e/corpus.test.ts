import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { down, play, PodvoyError } from '../../src/index.js';
import { CORPUS_DIR, corpusCases, corpusSpecText, expectedMessage, stageCase } from '../corpus/cases.js';

const exec = promisify(execFile);
const SPEC_LABEL = 'io.podvoy.spec';

/** Every pod (any state) and network podman knows, with the deployment a pod belongs to. */
async function podmanObjects(): Promise<{ pods: { name: string; spec?: string }[]; networks: string[] }> {
  const pods = JSON.parse((await exec('podman', ['pod', 'ps', '--format', 'json'])).stdout) as {
    Name: string;
    Labels?: Record<string, string>;
  }[];
  const networks = (await exec('podman', ['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean);
  return {
    pods: pods.map((p) => ({ name: p.Name, ...(p.Labels?.[SPEC_LABEL] ? { spec: p.Labels[SPEC_LABEL] } : {}) })),
    networks,
  };
}

/**
 * What appeared in podman between two snapshots and could come from the case. Other end-to-end
 * runs on the machine may play their own deployments meanwhile: a podvoy pod or network whose
 * deployment name does not occur in the case's spec cannot be the case's, and is left out.
 */
function appeared(
  before: Awaited<ReturnType<typeof podmanObjects>>,
  after: Awaited<ReturnType<typeof podmanObjects>>,
  specText: string,
): string[] {
  const pods = after.pods
    .filter((p) => !before.pods.some((b) => b.name === p.name))
    .filter((p) => p.spec === undefined || specText.includes(p.spec))
    .map((p) => `pod ${p.name}`);
  const networks = after.networks
    .filter((n) => !before.networks.includes(n))
    .filter((n) => !n.startsWith('podvoy-') || specText.includes(n.slice('podvoy-'.length)))
    .map((n) => `network ${n}`);
  return [...pods, ...networks];
}

/**
 * Every path under `dir` with its type, size and mtime; symlinks are listed, not followed. Names
 * are read as bytes: a case may hold a directory whose name is not UTF-8.
 */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: Buffer): Promise<void> => {
    for (const entry of (await readdir(at, { encoding: 'buffer' })).sort(Buffer.compare)) {
      const full = Buffer.concat([at, Buffer.from('/'), entry]);
      const info = await lstat(full);
      const kind = info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : info.isFIFO() ? 'fifo' : 'file';
      out.push(`${full.subarray(dir.length + 1).toString('utf8')} ${kind} ${info.size} ${info.mtimeMs}`);
      if (info.isDirectory()) await walk(full);
    }
  };
  await walk(Buffer.from(dir));
  return out;
}

const cases = corpusCases();

/** Hostile and malformed specs, played for real: each is refused with its pinned message, and nothing runs or is written. */
describe('the corpus of rejected specs', () => {
  let tmp: string | undefined;

  beforeAll(async () => {
    await exec('podman', ['version', '--format', '{{.Client.Version}}']).catch((error: unknown) => {
      throw new Error(`podman does not run (${String(error)}). Run scripts/setup, or install podman (apt-get install podman).`);
    });
  });

  afterEach(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it('has at least 45 cases, each with its expected message', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    for (const name of cases) expect(existsSync(path.join(CORPUS_DIR, name, 'expected.txt')), name).toBe(true);
  });

  it.each(cases)('%s is refused with its pinned message, and nothing is started or written', async (name) => {
    // A real path: messages about paths leaving the spec's folder name real paths.
    tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'podvoy-corpus-')));
    const staged = await stageCase(name, tmp);
    const roots = { stateDir: path.join(tmp, 'state'), runDir: path.join(tmp, 'run') };
    const expected = await expectedMessage(name, { file: staged.file, tmp });
    const filesBefore = await tree(tmp);
    const podmanBefore = await podmanObjects();

    const outcome = await play(staged.file, { roots }).then(
      async () => {
        // It should never get here; if it does, take down what it started before failing.
        await down(staged.file, { roots }).catch(() => {});
        return undefined;
      },
      (error: unknown) => error,
    );

    expect(outcome).toBeInstanceOf(PodvoyError);
    expect((outcome as PodvoyError).message).toBe(expected);
    expect(existsSync(roots.stateDir)).toBe(false);
    expect(existsSync(roots.runDir)).toBe(false);
    expect(await tree(tmp)).toEqual(filesBefore);
    expect(appeared(podmanBefore, await podmanObjects(), corpusSpecText(name))).toEqual([]);
  });
});
