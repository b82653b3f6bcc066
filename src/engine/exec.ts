import { execa } from 'execa';
import { EngineNotFoundError } from '../errors.js';

/**
 * The one place podvoy starts child processes; everything else goes through `runProgram`
 * (but the CLI's first podman listings, in podman/early.ts, which start before execa loads).
 */

export interface ProgramResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the program's stdin. */
  readonly input?: string;
  /** Let the program write to our terminal (logs --follow) instead of capturing. */
  readonly inherit?: boolean;
  readonly timeoutMs?: number;
  /** Working directory of the program. */
  readonly cwd?: string;
  /** What to tell the user when the program is not installed. */
  readonly installHint: string;
}

/** Runs a program to completion. Never throws for a non-zero exit: callers classify failures. */
export async function runProgram(file: string, args: readonly string[], options: RunOptions): Promise<ProgramResult> {
  const argv = [file, ...args];
  const result = await execa(file, args, {
    reject: false,
    input: options.input,
    timeout: options.timeoutMs,
    cwd: options.cwd,
    stdio: options.inherit ? 'inherit' : 'pipe',
    stripFinalNewline: true,
  });
  if (result.code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))) {
    throw new EngineNotFoundError(file, options.installHint);
  }
  // With our output inherited, a reader that closes it (`podvoy logs spec | head`) ends the
  // program by SIGPIPE: the reader has seen enough, and nothing failed.
  if (options.inherit && result.signal === 'SIGPIPE') return { argv, exitCode: 0, stdout: '', stderr: '' };
  return {
    argv,
    exitCode: result.exitCode ?? (result.timedOut ? 124 : 1),
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : result.timedOut ? `timed out after ${options.timeoutMs} ms` : '',
  };
}
