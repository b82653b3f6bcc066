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
const started = new Map<string, { readonly listing: Promise<ProgramResult | undefined>; readonly mark?: string }>();

/**
 * With `mark` (the change mark read just before), the listing answers only a taker that
 * brings the same mark: one taken after another command changed pods is dropped.
 */
export function startEarly(args: readonly string[], mark?: string): void {
  const argv = [...GLOBAL_ARGS, ...args];
  started.set(key(args), {
    ...(mark === undefined ? {} : { mark }),
    listing: new Promise((resolve) => {
      execFile('podman', argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const exitCode = error ? error.code : 0;
        if (typeof exitCode !== 'number') return resolve(undefined);
        resolve({ argv: ['podman', ...argv], exitCode, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '') });
      });
    }),
  });
}

/** The listing started early with these arguments (and this change mark, if it had one), once; undefined when none was. */
export async function takeEarly(args: readonly string[], mark?: string): Promise<ProgramResult | undefined> {
  const early = started.get(key(args));
  started.delete(key(args));
  return early && early.mark === mark ? early.listing : undefined;
}

function key(args: readonly string[]): string {
  return JSON.stringify(args);
}
