import { describe, expect, it } from 'vitest';
import { EngineNotFoundError } from '../../src/errors.js';
import { startEarly, takeEarly } from '../../src/engine/podman/early.js';
import { podmanRaw } from '../../src/engine/podman/podman.js';

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
});
