import { imageListArgs, podPsArgs } from '../engine/podman/args.js';
import { startEarly } from '../engine/podman/early.js';
import { LOCAL_IMAGES } from '../mesh/contract.js';

/**
 * Starts the podman listing a command will read, from its raw arguments, before the CLI's
 * modules load (bin/podvoy.js calls this first). Only listings that no podvoy command changes
 * under a deployment's lock: the local images (play, diff) and every pod (ps).
 */
export function startEarlyListings(args: readonly string[]): void {
  const verb = args.find((arg) => !arg.startsWith('-'));
  if (args.includes('--help') || args.includes('-h')) return;
  if (verb === 'play' || verb === 'diff') startEarly(imageListArgs(Object.values(LOCAL_IMAGES)));
  else if (verb === 'ps') startEarly(podPsArgs());
}
