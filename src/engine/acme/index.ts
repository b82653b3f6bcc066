import { X509Certificate } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import path from 'node:path';
import { AcmeError, MeshTimeoutError } from '../../errors.js';
import { GATEWAY_TLS, IN_POD } from '../../mesh/contract.js';
import { acmeDir, type StateRoots } from '../../mesh/layout.js';
import type { GatewayAcme } from '../../mesh/plan.js';
import { secretVersions } from '../envoy/admin.js';
import { httpGet } from '../envoy/http.js';
import { waitForFiles, writeMeshFiles, type WatchingEnvoy } from '../envoy/mesh-sync.js';
import { ensureDir } from '../files.js';
import { importCommonJs } from '../load-cjs.js';
import { writeOwned } from '../pki/store.js';
import { decideOrder, recordAttempt, renewAfter, type AcmeCertificateRecord, type AcmeRecord } from './renewal.js';

/**
 * The gateway's certificate from an ACME server (RFC 8555) with acme-client: an account key made
 * once, an order for the spec's domains, each proved by HTTP-01 on the gateway's own plain HTTP
 * listener (a listener file change, no restart), and the certificate handed to Envoy through the
 * SDS file of its TLS directory. A failure leaves the gateway serving what it served.
 */

const FILES = { accountKey: 'account-key.pem', record: 'record.json' } as const;
// RFC 8555 section 8.1: a token is base64url; nothing else may reach the listener file.
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

export interface AcmeOptions {
  readonly roots: StateRoots;
  readonly onProgress?: (line: string) => void;
  readonly timeoutMs?: number;
  /** Order a certificate now, whatever the renewal schedule and backoff say. */
  readonly force?: boolean;
  /**
   * PEM certificates to trust for the ACME server's own HTTPS, beside the system's (a private
   * ACME server, or Pebble in tests).
   */
  readonly trust?: string;
  /** The time the schedule is checked against. @default now */
  readonly now?: Date;
}

/** The gateway's certificate after play or `certs renew`. */
export interface AcmeStatus {
  readonly domains: readonly string[];
  readonly directory: string;
  /** `issued`: a new certificate serves now; `current`: the one served is not due; `failed`: see error. */
  readonly outcome: 'issued' | 'current' | 'backoff' | 'failed';
  /** The ACME certificate the gateway serves; none: it serves a self-signed one. */
  readonly certificate?: AcmeCertificateRecord & { readonly renewAfter: string };
  readonly lastAttempt?: AcmeRecord['lastAttempt'];
  readonly retryAfter?: string;
  /** With `failed`: the error, plainly. */
  readonly error?: string;
}

/**
 * Before the gateway starts: its TLS directory names a pair in its SDS file, the self-signed pair
 * until an ACME certificate exists (prepareTls made it), so Envoy always has one to serve.
 */
export async function prepareAcmeTls(gateway: GatewayAcme): Promise<void> {
  const sdsPath = path.join(gateway.dir, GATEWAY_TLS.sdsFile);
  if (await readFile(sdsPath, 'utf8').then(() => true, () => false)) return;
  await writeOwned(sdsPath, gateway.sds(GATEWAY_TLS.selfSigned).text, 0o444, IN_POD.uid);
}

/**
 * Obtains or renews the gateway's certificate when it is missing, due or forced, with the
 * gateway serving. Never throws for the ACME server's failures: they are recorded and returned.
 */
export async function ensureAcmeCertificate(specName: string, gateway: GatewayAcme, envoy: WatchingEnvoy, options: AcmeOptions): Promise<AcmeStatus> {
  const progress = options.onProgress ?? (() => {});
  const now = options.now ?? new Date();
  const { directory, domains } = gateway.settings;
  const dir = acmeDir(options.roots, specName);
  const record = await readRecord(dir);
  const decision = decideOrder(record, { directory, domains }, now, options.force);
  if (!decision.order) return statusOf(record!, decision.why, domains);
  if (!record?.certificate) progress(`the gateway serves a self-signed certificate until ${directory} issues one`);
  progress(`asking ${directory} for a certificate for ${domains.join(', ')} (${decision.why})`);
  let next: AcmeRecord;
  try {
    const certificate = await order(specName, gateway, envoy, options);
    next = recordAttempt(record, directory, now, { certificate });
    await writeRecord(dir, next);
    await removeUnusedPairs(gateway.dir, certificate);
    progress(`certificate ${certificate.serial} from ${certificate.issuer} serves until ${certificate.notAfter}`);
    return statusOf(next, 'issued', domains);
  } catch (error) {
    const serving = record?.certificate
      ? `the certificate it has (serial ${record.certificate.serial}, until ${record.certificate.notAfter})`
      : 'a self-signed certificate, which browsers refuse';
    const failure = new AcmeError(directory, domains, describeFailure(error), serving);
    next = recordAttempt(record, directory, now, { error: failure.message });
    await writeRecord(dir, next);
    progress(failure.message);
    return { ...statusOf(next, 'failed', domains), error: failure.message };
  }
}

/** The record of a gateway's ACME certificate, for `podvoy certs`; undefined before any attempt. */
export async function readAcmeStatus(specName: string, roots: StateRoots, domains?: readonly string[]): Promise<AcmeStatus | undefined> {
  const record = await readRecord(acmeDir(roots, specName));
  return record && statusOf(record, record.lastAttempt?.ok === false ? 'failed' : 'current', domains ?? record.certificate?.domains ?? []);
}

async function order(specName: string, gateway: GatewayAcme, envoy: WatchingEnvoy, options: AcmeOptions): Promise<AcmeCertificateRecord> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { email, directory, domains } = gateway.settings;
  const acme = await acmeClient();
  const ca = options.trust ? [...rootCertificates, options.trust].join('\n') : undefined;
  // acme-client has one axios instance per process: each order sets (or clears) what it trusts.
  acme.axios.defaults.httpsAgent = ca ? new Agent({ ca }) : undefined;
  // acme-client retries a server that does not answer for a minute, then reports an error that
  // has lost the reason: ask once first.
  await httpGet(directory, { timeoutMs: 10_000, ...(ca ? { ca } : {}) }).catch((error: unknown) => {
    throw new Error(`it cannot be reached: ${describeFailure(error)}`);
  });
  const client = new acme.Client({ directoryUrl: directory, accountKey: await accountKey(acmeDir(options.roots, specName)), backoffAttempts: 10, backoffMin: 1000, backoffMax: 10_000 });
  const [key, csr] = await acme.crypto.createCsr({ commonName: domains[0]!, altNames: [...domains] }, await acme.crypto.createPrivateEcdsaKey());
  const pending = new Map<string, string>();
  // acme-client answers an order's authorizations at once: their listener files go one at a time.
  let published: Promise<void> = Promise.resolve();
  const publish = () => {
    const write = async () => {
      const file = gateway.listeners([...pending].map(([token, keyAuthorization]) => ({ token, keyAuthorization })));
      const since = new Date();
      await waitForFiles(await writeMeshFiles([file]), [envoy], timeoutMs, since);
    };
    published = published.then(write, write);
    return published;
  };
  let chain: string;
  try {
    chain = await client.auto({
      csr,
      email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client would fetch the token itself from port 80 first; the ACME server's own
      // validation is the one that counts, and reaches the gateway wherever its port is published.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (!TOKEN.test(challenge.token)) throw new Error(`the server sent a token that is not base64url (${JSON.stringify(challenge.token.slice(0, 40))})`);
        pending.set(challenge.token, keyAuthorization);
        await publish();
      },
      challengeRemoveFn: async (_authz, challenge) => {
        pending.delete(challenge.token);
      },
    });
  } finally {
    pending.clear();
    await publish();
  }
  const leaf = new X509Certificate(chain);
  const serial = leaf.serialNumber.toLowerCase();
  const files = { cert: `acme-${serial}.pem`, key: `acme-${serial}-key.pem` };
  await writeOwned(path.join(gateway.dir, files.key), key.toString(), 0o400, IN_POD.uid);
  await writeOwned(path.join(gateway.dir, files.cert), chain, 0o444, IN_POD.uid);
  const sds = gateway.sds(files);
  await writeOwned(path.join(gateway.dir, GATEWAY_TLS.sdsFile), sds.text, 0o444, IN_POD.uid);
  await waitForSecret(envoy, sds.version, timeoutMs);
  const info = acme.crypto.readCertificateInfo(chain);
  return {
    serial,
    issuer: info.issuer.commonName ?? leaf.issuer,
    domains: [...domains],
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    ...files,
  };
}

/** acme-client (and the axios it brings) takes tens of ms to load: only a play that orders loads it. */
async function acmeClient(): Promise<typeof import('acme-client')> {
  return importCommonJs(() => import('acme-client'));
}

/** The account key, made once and kept root-only: the account is this key. */
async function accountKey(dir: string): Promise<string> {
  await ensureDir(dir);
  const file = path.join(dir, FILES.accountKey);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) return existing;
  const key = (await (await acmeClient()).crypto.createPrivateEcdsaKey()).toString();
  await writeOwned(file, key, 0o400);
  return key;
}

async function waitForSecret(envoy: WatchingEnvoy, version: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while ((await secretVersions(envoy.socket).catch(() => ({}) as Record<string, string>))[GATEWAY_TLS.secret] !== version) {
    if (Date.now() - started > timeoutMs) throw new MeshTimeoutError(`${envoy.pod} to load its new certificate (SDS version ${version})`, Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Once Envoy serves the new pair, the pairs before it go (the self-signed one stays as the fallback). */
async function removeUnusedPairs(dir: string, current: AcmeCertificateRecord): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('acme-') && name !== current.cert && name !== current.key) await rm(path.join(dir, name), { force: true });
  }
}

/** What went wrong, in the ACME server's words when it gave any. */
function describeFailure(error: unknown): string {
  if (error instanceof MeshTimeoutError) return error.message;
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    return cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}

async function readRecord(dir: string): Promise<AcmeRecord | undefined> {
  const text = await readFile(path.join(dir, FILES.record), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as AcmeRecord);
}

async function writeRecord(dir: string, record: AcmeRecord): Promise<void> {
  await ensureDir(dir);
  await writeOwned(path.join(dir, FILES.record), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

function statusOf(record: AcmeRecord, outcome: AcmeStatus['outcome'], domains: readonly string[]): AcmeStatus {
  return {
    domains,
    directory: record.directory,
    outcome,
    ...(record.certificate && { certificate: { ...record.certificate, renewAfter: renewAfter(record.certificate).toISOString() } }),
    ...(record.lastAttempt && { lastAttempt: record.lastAttempt }),
    ...(record.retryAfter && { retryAfter: record.retryAfter }),
    ...(outcome === 'failed' && record.lastAttempt?.error && { error: record.lastAttempt.error }),
  };
}
