import { certificates, renewCertificates, rotateCa as rotate, type CertificatesResult } from '../../index.js';
import { progressPrinter } from '../progress.js';

function print(result: CertificatesResult): void {
  process.stdout.write(`${result.spec}: CA ${result.ca.fingerprint} (${result.ca.source === 'user' ? "the spec's own" : 'made by podvoy'}, until ${result.ca.notAfter})\n`);
  for (const c of result.certificates) {
    const envoys = c.envoys.length ? c.envoys.join(', ') : c.identity === 'podvoy' ? "podvoy's own health checks" : 'no running Envoy';
    const renewed = result.renewed.includes(c.identity) ? '  (renewed now)' : '';
    process.stdout.write(`${c.identity}  ${c.spiffeId}  serial ${c.serial}  until ${c.notAfter}, renewed after ${c.renewAfter}  served by ${envoys}${renewed}\n`);
  }
}

export async function list(spec: string, opts: { json?: boolean }): Promise<void> {
  const result = await certificates(spec);
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else print(result);
}

export async function renew(spec: string, opts: { force?: boolean }): Promise<void> {
  print(await renewCertificates(spec, { onProgress: progressPrinter(), ...(opts.force ? { force: true } : {}) }));
}

export async function rotateCa(spec: string): Promise<void> {
  print(await rotate(spec, { onProgress: progressPrinter() }));
}
