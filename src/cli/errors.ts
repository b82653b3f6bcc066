import { KubernetesRenderError, PodvoyError, SpecError, SpecFileError } from '../errors.js';

/** Exit codes: 2 for a spec the user must fix, 1 for any other podvoy error, 70 for a bug. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof SpecError || error instanceof SpecFileError || error instanceof KubernetesRenderError) return 2;
  if (error instanceof PodvoyError) return 1;
  return 70;
}

/** The one place errors reach the user: the message, and a stack only for bugs or --debug. */
export function reportError(error: unknown, debug: boolean): number {
  const code = exitCodeOf(error);
  if (code === 70 || debug) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } else {
    process.stderr.write(`podvoy: ${(error as Error).message}\n`);
  }
  if (code === 70 && !debug) process.stderr.write('This is a bug in podvoy; please report it with the output above.\n');
  return code;
}
