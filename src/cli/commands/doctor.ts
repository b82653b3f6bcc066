import { doctor, type Check } from '../../index.js';

export async function run(opts: { json?: boolean }): Promise<void> {
  printChecks(await doctor(), opts);
}

/** A check a line (and its fix when it failed), or JSON; exit code 1 when any failed. */
export function printChecks(checks: readonly Check[], opts: { json?: boolean }): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  } else {
    for (const c of checks) {
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
      if (!c.ok && c.fix) process.stdout.write(`     fix: ${c.fix}\n`);
    }
  }
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}
