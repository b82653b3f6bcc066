import { cleanOrphanWorkspaces } from './e2e.js';

/** Global setup of the `e2e` project: what a killed earlier run left running goes first. */
export default async function setup(): Promise<void> {
  const orphans = await cleanOrphanWorkspaces();
  if (orphans.length) console.error(`e2e setup: took down what killed test runs left in ${orphans.join(', ')}`);
}
