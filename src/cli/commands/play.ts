import { play } from '../../index.js';
import { progressPrinter } from '../progress.js';
import { printGateway } from './certs.js';

export interface PlayFlags {
  readonly timeout: number;
  readonly json?: boolean;
}

export async function run(spec: string, opts: PlayFlags): Promise<void> {
  const result = await play(spec, { onProgress: progressPrinter(), timeoutMs: opts.timeout * 1000 });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  for (const s of result.services) {
    process.stdout.write(`${result.spec}/${s.service}: ${s.url ?? `pod ${s.pod} (not published)`} (${s.outcome})\n`);
  }
  for (const pod of result.removed) process.stdout.write(`removed ${pod}\n`);
  if (result.meshChanges.length) process.stdout.write(`mesh files changed: ${result.meshChanges.length}, applied without restarting any Envoy\n`);
  if (result.mtls === 'off') process.stdout.write('mTLS: off (mtls: false in the spec): traffic between the mesh\'s Envoys is plain HTTP\n');
  if (result.certificates) {
    const renewed = result.certificates.renewed.length ? `; issued ${result.certificates.renewed.join(', ')}` : '';
    process.stdout.write(`mTLS: on, every hop; CA ${result.certificates.ca.fingerprint.slice(0, 23)} (${result.certificates.ca.source})${renewed}\n`);
  }
  if (result.acme) printGateway(result.acme);
}
