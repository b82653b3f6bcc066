import { imageListArgs, podPsArgs } from '../engine/podman/args.js';
import { startEarly } from '../engine/podman/early.js';
import { readChangeMark } from '../engine/rollout/change-mark.js';
import { LOCAL_IMAGES } from '../mesh/contract.js';
import { defaultRoots } from '../mesh/layout.js';

/**
 * Starts the podman listings a command will read, from its raw arguments, before the CLI's
 * modules load (bin/podvoy.js calls this first): the local images and every podvoy pod (play,
 * diff), every pod (ps). Pods change under a deployment's lock, so play's listing carries the
 * change mark read before it, and is used only if no command has let go of a lock since.
 */
export function startEarlyListings(args: readonly string[]): void {
  const verb = args.find((arg) => !arg.startsWith('-'));
  if (args.includes('--help') || args.includes('-h')) return;
  if (verb === 'play' || verb === 'diff') {
    startEarly(imageListArgs(Object.values(LOCAL_IMAGES)));
    startEarly(podPsArgs(), readChangeMark(defaultRoots()));
  }
  else if (verb === 'ps') startEarly(podPsArgs());
}
