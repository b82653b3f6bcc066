import { play } from '../../index.js';
import { progressPrinter } from '../progress.js';

export async function run(spec: string, opts: { timeout: number }): Promise<void> {
  const result = await play(spec, { onProgress: progressPrinter(), timeoutMs: opts.timeout * 1000 });
  for (const s of result.services) {
    process.stdout.write(`${result.spec}/${s.service}: ${s.url ?? `pod ${s.pod} (not published)`} (${s.outcome})\n`);
  }
  for (const pod of result.removed) process.stdout.write(`removed ${pod}\n`);
}
