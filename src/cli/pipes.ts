/**
 * A closed stdout (`podvoy render spec | head`) is the reader saying it has seen enough, as for
 * any Unix tool: the command ends quietly instead of crashing on EPIPE with a stack trace.
 */

/** What is left of the command's output is dropped once its reader has gone. */
export function quietOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      // Nobody reads any more: drop further output rather than fail on it. The command runs on
      // to its end, so that a play or down is never cut between two steps.
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
