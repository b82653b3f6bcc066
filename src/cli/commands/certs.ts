import { NotDeployedError } from '../../errors.js';
import {
  certificates,
  gatewayCertificate,
  renewCertificates,
  renewGatewayCertificate,
  rotateCa as rotate,
  type AcmeStatus,
  type CertificatesResult,
} from '../../index.js';
import { progressPrinter } from '../progress.js';

function print(result: CertificatesResult): void {
  process.stdout.write(`${result.spec}: CA ${result.ca.fingerprint} (${result.ca.source === 'user' ? "the spec's own" : 'made by podvoy'}, until ${result.ca.notAfter})\n`);
  for (const c of result.certificates) {
    const envoys = c.envoys.length ? c.envoys.join(', ') : c.identity === 'podvoy' ? "podvoy's own health checks" : 'no running Envoy';
    const renewed = result.renewed.includes(c.identity) ? '  (renewed now)' : '';
    process.stdout.write(`${c.identity}  ${c.spiffeId}  serial ${c.serial}  until ${c.notAfter}, renewed after ${c.renewAfter}  served by ${envoys}${renewed}\n`);
  }
}

/** One line for the gateway's ACME certificate, one for the last attempt. */
export function printGateway(status: AcmeStatus): void {
  const c = status.certificate;
  process.stdout.write(
    c
      ? `gateway (ACME)  ${c.domains.join(', ')}  issuer ${c.issuer}  serial ${c.serial}  until ${c.notAfter}, renewed after ${c.renewAfter}${status.outcome === 'issued' ? '  (issued now)' : ''}\n`
      : `gateway (ACME)  ${status.domains.join(', ')}  no certificate yet: the gateway serves a self-signed one\n`,
  );
  const last = status.lastAttempt;
  if (last) {
    const retry = status.retryAfter ? `; next try after ${status.retryAfter}` : '';
    process.stdout.write(`  last attempt ${last.at}: ${last.ok ? 'issued' : `failed${retry}\n  ${last.error ?? ''}`}\n`);
  }
}

/** The mesh's certificates, or none when the deployment has only the gateway's ACME one. */
async function meshOr<T>(gateway: AcmeStatus | undefined, read: () => Promise<T>): Promise<T | undefined> {
  return read().catch((error: unknown) => {
    if (gateway && error instanceof NotDeployedError) return undefined;
    throw error;
  });
}

export async function list(spec: string, opts: { json?: boolean }): Promise<void> {
  const gateway = await gatewayCertificate(spec);
  const mesh = await meshOr(gateway, () => certificates(spec));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...mesh, ...(gateway ? { gateway } : {}) }, null, 2)}\n`);
    return;
  }
  if (mesh) print(mesh);
  if (gateway) printGateway(gateway);
}

export async function renew(spec: string, opts: { force?: boolean }): Promise<void> {
  const force = opts.force ? { force: true } : {};
  const gateway = await gatewayCertificate(spec);
  const mesh = await meshOr(gateway, () => renewCertificates(spec, { onProgress: progressPrinter(), ...force }));
  if (mesh) print(mesh);
  if (gateway) {
    const renewed = await renewGatewayCertificate(spec, { onProgress: progressPrinter(), ...force });
    if (renewed) printGateway(renewed);
    else process.stdout.write('gateway (ACME): not renewed from a deployment name; give the spec file (podvoy certs renew path/to/podvoy.yaml), or play it\n');
    if (renewed?.outcome === 'failed') process.exitCode = 1;
  }
}

export async function rotateCa(spec: string): Promise<void> {
  print(await rotate(spec, { onProgress: progressPrinter() }));
}
