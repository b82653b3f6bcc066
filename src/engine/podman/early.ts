import { execFile } from 'node:child_process';
import type { ProgramResult } from '../exec.js';
import { GLOBAL_ARGS } from './args.js';

/**
 * Read-only podman listings started as a CLI command begins, before the modules that read
 * them are loaded: podman answers while Node.js loads podvoy, which is most of a quick
 * command's time. Each is taken once, by the first podman call with the same arguments.
 * Started with Node's own execFile, as execa is not loaded yet; a listing that could not
 * start (no podman) gives nothing, and the call then runs, and fails, as usual.
 */
const started = new Map<string, Promise<ProgramResult | undefined>>();

export function startEarly(args: readonly string[]): void {
  const argv = [...GLOBAL_ARGS, ...args];
  started.set(
    key(args),
    new Promise((resolve) => {
      execFile('podman', argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const exitCode = error ? error.code : 0;
        if (typeof exitCode !== 'number') return resolve(undefined);
        resolve({ argv: ['podman', ...argv], exitCode, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '') });
      });
    }),
  );
}

/** The listing started early with these arguments, once; undefined when none was. */
export async function takeEarly(args: readonly string[]): Promise<ProgramResult | undefined> {
  const listing = started.get(key(args));
  started.delete(key(args));
  return listing;
}

function key(args: readonly string[]): string {
  return JSON.stringify(args);
}
