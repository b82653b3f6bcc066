/**
 * `podvoy <command> | head`: once the reader has gone, the command ends as it would have, with
 * no EPIPE crash and no stack trace. Runs the built CLI with its stdout (or stderr) on a real pipe
 * whose read end is closed before the CLI writes a byte.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { play } from '../../src/index.js';
import { freePort, uniqueName, workspace, type Workspace } from '../support/e2e.js';

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the CLI wrote on the stream that stayed open. */
  readonly said: string;
}

/** Runs the CLI with `closed` (stdout or stderr) a pipe nobody reads: its read end is closed at once. */
function runWithClosed(closed: 'stdout' | 'stderr', args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin/podvoy.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child[closed].destroy();
    let said = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, said }));
  });
}

describe('a closed pipe', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'podvoy-pipes-'));
    env = { PODVOY_STATE_DIR: path.join(tmp, 'state'), PODVOY_RUN_DIR: path.join(tmp, 'run') };
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const mesh = path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml');
  const nobody = uniqueName('nopipe');

  it.each<[string, string[], number]>([
    ['render', ['render', mesh], 0],
    ['render --out', ['render', mesh, '--out', '<tmp>/out'], 0],
    ['help', ['--help'], 0],
    ['a command\'s help', ['play', '--help'], 0],
    ['ps', ['ps'], 0],
    ['ps --json', ['ps', '--json'], 0],
    ['logs of nothing deployed', ['logs', nobody], 1],
    ['a spec that does not exist', ['render', '<tmp>/missing.yaml'], 2],
  ])('on stdout ends %s quietly', async (_, args, code) => {
    const ended = await runWithClosed('stdout', args.map((a) => a.replace('<tmp>', tmp)), env);
    expect(ended.said).not.toMatch(/EPIPE|Error:|    at /);
    expect(ended).toMatchObject({ code, signal: null });
  });

  it.each<[string, string[], number]>([
    ['a spec to fix', ['render', '<tmp>/missing.yaml'], 2],
    ['logs of nothing deployed', ['logs', nobody], 1],
    ['render', ['render', mesh], 0],
  ])('on stderr ends %s quietly, with the exit code it would have had', async (_, args, code) => {
    const ended = await runWithClosed('stderr', args.map((a) => a.replace('<tmp>', tmp)), env);
    expect(ended).toMatchObject({ code, signal: null });
  });

  describe('with a deployment', () => {
    let ws: Workspace;
    let name: string;
    let denv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      ws = await workspace('blog');
      name = uniqueName('pipes');
      const file = await ws.writeSpec(`name: ${name}\nservices:\n  web:\n    static: ./site\n    sidecar: {publish: ${await freePort()}}\n`);
      await play(file, { roots: ws.roots });
      denv = { PODVOY_STATE_DIR: ws.roots.stateDir, PODVOY_RUN_DIR: ws.roots.runDir };
    });
    afterAll(async () => ws.cleanup());

    // logs hands our stdout to podman itself, which a closed pipe ends by SIGPIPE.
    it.each<[string, () => string[]]>([
      ['logs', () => ['logs', name]],
      ['logs --tail', () => ['logs', name, 'nginx', '--tail', '5']],
      ['status', () => ['status', name]],
      ['status --json', () => ['status', name, '--json']],
      ['ps', () => ['ps']],
    ])('on stdout ends %s quietly', async (_, args) => {
      const ended = await runWithClosed('stdout', args(), denv);
      expect(ended.said).not.toMatch(/EPIPE|Error|failed|    at /);
      expect(ended).toMatchObject({ code: 0, signal: null });
    });
  });
});
