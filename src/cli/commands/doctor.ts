import { doctor } from '../../index.js';

export async function run(opts: { json?: boolean }): Promise<void> {
  const checks = await doctor();
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
