import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineNotFoundError } from '../../src/errors.js';
import { podPsArgs } from '../../src/engine/podman/args.js';
import { startEarly, takeEarly } from '../../src/engine/podman/early.js';
import { podman, podmanRaw } from '../../src/engine/podman/podman.js';
import { readChangeMark } from '../../src/engine/rollout/change-mark.js';
import { withLock } from '../../src/engine/rollout/lock.js';
import { listSpecPods } from '../../src/engine/rollout/play.js';
import { LABELS } from '../../src/mesh/names.js';

/** The CLI's listings started before podvoy loads: on the real podman, the same answer as a call made then. */
describe('podman listings started early', () => {
  const VERSION = ['version', '--format', '{{.Client.Version}}'];

  it('answers the first call with the same arguments exactly as podman does, then runs calls afresh', async () => {
    startEarly(VERSION);
    // Without podman on PATH now, only the listing started before can answer.
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    const early = await podmanRaw(VERSION).finally(() => (process.env.PATH = path));
    expect(early).toEqual(await podmanRaw(VERSION));
    expect(early).toMatchObject({ argv: ['podman', '--runtime', 'runc', ...VERSION], exitCode: 0 });
    expect(early.stdout).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
    expect(await takeEarly(VERSION)).toBeUndefined();
  });

  it('keeps a failing listing\'s exit code and message, as the call would', async () => {
    const args = ['pod', 'inspect', 'podvoy-early-no-such-pod'];
    startEarly(args);
    const early = await podmanRaw(args);
    expect(early.exitCode).not.toBe(0);
    expect(early).toEqual(await podmanRaw(args));
  });

  it('gives nothing when podman could not start, so that the call itself says how to install it', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      startEarly(VERSION);
      expect(await takeEarly(VERSION)).toBeUndefined();
      startEarly(VERSION);
      await expect(podmanRaw(VERSION)).rejects.toBeInstanceOf(EngineNotFoundError);
    } finally {
      process.env.PATH = path;
    }
  });

  describe("play's listing of pods, started before the lock", () => {
    const spec = `early${process.pid}`;
    const pod = `${spec}-web-0`;
    async function withRoots(fn: (roots: { stateDir: string; runDir: string }) => Promise<void>): Promise<void> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-early-'));
      try {
        await fn({ stateDir: dir, runDir: dir });
      } finally {
        await podman(['pod', 'rm', '--force', '--ignore', pod]);
        await rm(dir, { recursive: true, force: true });
      }
    }

    it('answers from the listing when no command let go of a lock since it began', async () =>
      withRoots(async (roots) => {
        await podman(['pod', 'create', '--label', `${LABELS.spec}=${spec}`, '--name', pod]);
        startEarly(podPsArgs(), readChangeMark(roots));
        const path = process.env.PATH;
        process.env.PATH = '/nonexistent';
        const pods = await listSpecPods(roots, spec).finally(() => (process.env.PATH = path));
        expect(pods.map((p) => p.name)).toEqual([pod]);
      }));

    it('lists afresh when a command changed pods under its lock after the listing began', async () =>
      withRoots(async (roots) => {
        startEarly(podPsArgs(), readChangeMark(roots));
        // The listing ends before the pod exists.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await withLock(roots, spec, () => podman(['pod', 'create', '--label', `${LABELS.spec}=${spec}`, '--name', pod]));
        expect((await listSpecPods(roots, spec)).map((p) => p.name)).toEqual([pod]);
      }));
  });
});
