import { podman } from '../podman/podman.js';
import { podLogsArgs } from '../podman/args.js';

/**
 * How Envoy says it refused a file it watches (a mesh file, an SDS secret) and keeps what it
 * had: "Filesystem config update rejected: <why>" (1.40; "update failure" in older releases).
 * Read from its log rather than from its update_rejected counters: a counter read after the
 * file is written may already count the refusal (Envoy applies a file within milliseconds),
 * and reading one before would delay every change by an admin call.
 */
const REFUSAL = /config update (?:rejected|failure): (.*)$/;

/** How long a file may go unapplied before Envoy's log is read for a refusal, and again after that. */
const REFUSAL_LOOK_MS = 500;

/**
 * The log lines read for a refusal, newest first: `--since` alone reads a pod's whole log (a
 * gateway's 57,000 access log lines: 270 ms a look, 60 ms with this). A refusal buried under
 * more lines than this is found at the time limit instead.
 */
const REFUSAL_LOOK_LINES = 1000;

/** Why Envoy in this pod last refused a watched file since `since`, from the pod's log; undefined if it refused none. */
async function refusalSince(pod: string, since: Date): Promise<string | undefined> {
  const { stdout, stderr } = await podman(podLogsArgs(pod, { since, tail: REFUSAL_LOOK_LINES })).catch(() => ({ stdout: '', stderr: '' }));
  const said = `${stdout}\n${stderr}`.split('\n').map((line) => REFUSAL.exec(line)?.[1]).filter((why) => why !== undefined);
  return said.at(-1);
}

/**
 * A check for a refusal that reads the log at most every REFUSAL_LOOK_MS, starting that long
 * after it is made: a file applied in time costs no podman call.
 */
export function refusalWatch(pod: string, since: Date): () => Promise<string | undefined> {
  let next = Date.now() + REFUSAL_LOOK_MS;
  return async () => {
    if (Date.now() < next) return undefined;
    next = Date.now() + REFUSAL_LOOK_MS;
    return refusalSince(pod, since);
  };
}
