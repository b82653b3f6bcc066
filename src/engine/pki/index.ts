import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CertificateError, NotDeployedError, PodvoyError } from '../../errors.js';
import { SDS_FILES, SDS_SECRETS, renewalDue, type Identity, type MeshTlsPlan, type SdsFile, type SdsRenderer } from '../../mesh/identity.js';
import { podPaths, type StateRoots } from '../../mesh/layout.js';
import { secretVersions } from '../envoy/admin.js';
import { refusalWatch } from '../envoy/refusal.js';
import { withLock } from '../rollout/lock.js';
import { listPods, type DeployedPod } from '../podman/pods.js';

/** What the certificates need to know of a running pod: its name, service and status. */
export type RunningPod = Pick<DeployedPod, 'name' | 'service' | 'status'>;
import { PkiStore, sdsFileNames } from './store.js';
import type { KeyPair, SigningCa } from './x509.js';

/** The X.509 library loads only when a certificate is made or a CA read: every other command starts faster. */
const x509 = () => import('./x509.js');

/**
 * The mesh's certificates, kept by podvoy without a control plane: one CA per deployment (or
 * the user's), one leaf per identity, handed to Envoy as files it watches. One procedure does
 * it all, and is safe to run again at any point: trust every root in use, reissue the leaves
 * that need it, and drop a retired root only once no running Envoy holds a leaf it signed.
 * Each step waits until every running Envoy reports the new SDS versions, so no request ever
 * meets a peer that does not trust its certificate.
 */

export interface PkiOptions {
  readonly roots: StateRoots;
  readonly sds: SdsRenderer;
  /** For each running Envoy to apply new files. @default 30000 */
  readonly timeoutMs?: number;
  readonly onProgress?: (line: string) => void;
  /** Reissue every leaf, due or not. */
  readonly force?: boolean;
  /** The clock, for tests. */
  readonly now?: () => Date;
  /**
   * Which running Envoys each step waits for: podman's pods of the deployment, or none (on a
   * cluster, where `kube apply` hands the files to the kubelet as Secrets; or when the caller
   * knows that no pod of the deployment runs, which spares two podman listings).
   * @default 'podman'
   */
  readonly envoys?: 'podman' | 'none';
  /** With `envoys: 'podman'`, the deployment's pods as the caller knows them to run now: spares listing them. */
  readonly running?: readonly RunningPod[];
  /**
   * With `envoys: 'none'`, called during a CA rotation after each step that the next one needs
   * every Envoy to have applied (the new root trusted; every leaf reissued): it hands the
   * identities' files to the Envoys and returns once they run them.
   */
  readonly publish?: (step: RotationStep) => Promise<void>;
}

/** One step of a CA rotation, and what every Envoy must run once it is applied. */
export interface RotationStep {
  readonly kind: 'trust' | 'certificates';
  /** The serial of the CA that signs now: the first root of every trust bundle. */
  readonly caSerial: string;
  /** Each Envoy identity's certificate serial. */
  readonly leaves: Readonly<Record<string, string>>;
}

/** One identity's certificate as podvoy keeps it. */
export interface CertificateInfo {
  readonly identity: string;
  readonly spiffeId: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** When play, `certs renew` or the timer will renew it: half way through its life. */
  readonly renewAfter: string;
  /** The pods whose Envoy serves it (podvoy's own client identity: none). */
  readonly envoys: readonly string[];
}

export interface CertificatesResult {
  readonly spec: string;
  /** The CA's fingerprint (SHA-256), and whether podvoy made it or it is the user's. */
  readonly ca: { readonly fingerprint: string; readonly source: 'podvoy' | 'user'; readonly notAfter: string };
  readonly certificates: readonly CertificateInfo[];
  /** Identities whose certificate this run issued. */
  readonly renewed: readonly string[];
}

/**
 * The one entry point `play` calls before pods start: makes the CA on the first play (or takes
 * the spec's), issues what is missing or past half its life, and puts it where every Envoy of the
 * identity reads it. Runs under the caller's lock.
 */
export async function ensureMeshCertificates(plan: MeshTlsPlan, options: PkiOptions): Promise<CertificatesResult> {
  const store = new PkiStore(options.roots, plan.specName);
  await store.prepare(plan.identities);
  const previous = await store.readState();
  const current = await store.readCa();
  const wanted = plan.ca ? await readUserCa(plan.ca) : undefined;
  const caSource = wanted ? 'user' : 'podvoy';
  if (!current) {
    options.onProgress?.(wanted ? 'installing the mesh CA from the spec' : 'making the mesh CA (ECDSA P-256)');
    await store.replaceCa(wanted ?? (await (await x509()).createCa(`podvoy mesh ${plan.specName}`)), undefined);
  } else if (wanted ? !sameCertificate(wanted.cert, current.cert) : previous?.caSource === 'user') {
    // The spec names another CA, or no longer names one: rotate to it, trusting both meanwhile.
    options.onProgress?.('rotating the mesh CA');
    await store.replaceCa(wanted ?? (await (await x509()).createCa(`podvoy mesh ${plan.specName}`)), current.cert);
  }
  await store.writeState({ plan, caSource });
  return converge(store, plan, caSource, options);
}

/**
 * Replaces the CA podvoy made with a new one, with no failed request: the new root is trusted
 * beside the old, every leaf is reissued, and only then the old root is dropped.
 */
export async function rotateMeshCa(specName: string, options: PkiOptions): Promise<CertificatesResult> {
  return withLock(options.roots, specName, async () => {
    const { store, state } = await stored(specName, options.roots);
    if (state.caSource === 'user') {
      throw new CertificateError(`The mesh CA of ${specName} is the spec's own (mtls.ca). Point mtls.ca at the new CA's files and play the spec: podvoy rotates to it the same way.`);
    }
    const current = await store.readCa();
    options.onProgress?.('making a new mesh CA, trusted beside the current one');
    await store.replaceCa(await (await x509()).createCa(`podvoy mesh ${specName}`), current?.cert);
    return converge(store, state.plan, state.caSource, { ...options, force: true });
  });
}

/** Renews what is due (or everything, with `force`), from what the last play recorded: works from the deployment's name. */
export async function renewMeshCertificates(specName: string, options: PkiOptions): Promise<CertificatesResult> {
  return withLock(options.roots, specName, async () => {
    const { store, state } = await stored(specName, options.roots);
    return converge(store, state.plan, state.caSource, options);
  });
}

/**
 * The files an Envoy of `identity` reads, by name in its directory: the two SDS files and the
 * certificate, key and trust bundle they name, as they are now. What a cluster gets as the
 * identity's Secret (the CA's key is never among them).
 */
export async function identityFiles(specName: string, identity: string, roots: StateRoots): Promise<Record<string, string>> {
  const store = new PkiStore(roots, specName);
  const id: Identity = { name: identity, spiffeId: '', envoy: true };
  const files: Record<string, string> = {};
  for (const sds of [SDS_FILES.certificate, SDS_FILES.trust]) {
    const text = await store.readIdentityFile(id, sds);
    if (text === undefined) throw new CertificateError(`The identity ${identity} of ${specName} has no ${sds} in ${store.identityDir(identity)}. podvoy bug: its certificates were not made first.`);
    files[sds] = text;
    for (const name of Object.values(sdsFileNames(text))) {
      const pem = await store.readIdentityFile(id, name);
      if (pem === undefined) throw new CertificateError(`${sds} of ${identity} names ${name}, which is missing from ${store.identityDir(identity)}. Run \`podvoy certs renew ${specName} --force\`.`);
      files[name] = pem;
    }
  }
  return files;
}

/** Whether a deployment was played with mTLS, so that it has certificates to renew. */
export async function hasMeshCertificates(specName: string, roots: StateRoots): Promise<boolean> {
  return (await new PkiStore(roots, specName).readState()) !== undefined;
}

/** Lists each identity's certificate and the Envoys that serve it; changes nothing. */
export async function listMeshCertificates(specName: string, options: { readonly roots: StateRoots; readonly running?: readonly RunningPod[] }): Promise<CertificatesResult> {
  const { store, state } = await stored(specName, options.roots);
  const ca = await store.readCa();
  if (!ca) throw new NotDeployedError(`${specName} has no mesh CA. Play its spec first.`);
  return describeAll(store, state.plan, state.caSource, ca.cert, [], options.running ?? (await runningPods(specName)));
}

async function stored(specName: string, roots: StateRoots): Promise<{ store: PkiStore; state: NonNullable<Awaited<ReturnType<PkiStore['readState']>>> }> {
  const store = new PkiStore(roots, specName);
  const state = await store.readState();
  if (!state) throw new NotDeployedError(`${specName} has no mesh certificates: it was never played with mTLS. Play its spec first.`);
  return { store, state };
}

async function readUserCa(files: { cert: string; key: string }): Promise<KeyPair> {
  const [cert, key] = await Promise.all([files.cert, files.key].map((f) => readFile(f, 'utf8')));
  await (await x509()).loadCa({ cert: cert!, key: key! }, files.cert);
  return { cert: cert!, key: key! };
}

function sameCertificate(a: string, b: string): boolean {
  return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
}

/** The steps every run takes; each one is skipped when there is nothing to do. */
async function converge(store: PkiStore, plan: MeshTlsPlan, caSource: 'podvoy' | 'user', options: PkiOptions): Promise<CertificatesResult> {
  const now = options.now ?? (() => new Date());
  const pair = await store.readCa();
  if (!pair) throw new CertificateError(`The mesh CA of ${plan.specName} is missing from ${store.caDir}. Run \`podvoy play\` on its spec to make one.`);
  const caCert = new X509Certificate(pair.cert);
  const retiring = await store.readPreviousCa();
  const running = options.envoys === 'none' ? [] : (options.running ?? (await listPods(plan.specName))).filter((p) => p.status === 'Running');
  const envoys = runningEnvoys(plan, options.roots, running);
  // Before any file is written: an Envoy's refusal of one is in its log after this.
  const since = new Date();

  const publish = async (kind: RotationStep['kind']) => {
    if (!options.publish) return;
    const leaves: Record<string, string> = {};
    for (const identity of plan.identities.filter((i) => i.envoy)) {
      const leaf = await store.currentLeaf(identity);
      if (leaf) leaves[identity.name] = leaf.cert.serialNumber.toLowerCase();
    }
    await options.publish({ kind, caSerial: caCert.serialNumber.toLowerCase(), leaves });
  };

  // 1. Trust every root a running Envoy's leaf may come from.
  const trustChanged = await applyTrust(store, plan, [pair.cert, ...(retiring ? [retiring] : [])], envoys, options, since);
  if (retiring && trustChanged) await publish('trust');

  // 2. Reissue the leaves that are missing, due, from another CA, for another ID, or forced:
  // together, as key generation and signing wait on Node's thread pool (31 leaves one after
  // another took 0.4 s).
  const due: Identity[] = [];
  for (const identity of plan.identities) {
    const leaf = await store.currentLeaf(identity);
    if (
      options.force ||
      !leaf ||
      !leaf.cert.checkIssued(caCert) ||
      !leaf.cert.verify(caCert.publicKey) ||
      leaf.cert.subjectAltName !== `URI:${identity.spiffeId}` ||
      renewalDue(new Date(leaf.cert.validFrom), new Date(leaf.cert.validTo), now())
    ) due.push(identity);
  }
  for (const identity of due) options.onProgress?.(`issuing the certificate of ${identity.spiffeId}`);
  if (due.length) {
    // The signing library loads only to sign: a play with nothing due (a route change) spares it.
    const ca = await (await x509()).loadCa(pair, path.join(store.caDir, 'ca.pem'));
    await Promise.all(due.map((identity) => issueFor(store, identity, ca, plan.lifetimeMs, now(), options.sds)));
  }
  const renewed = due.map((identity) => identity.name);
  await applyCertificates(store, plan, envoys, options, since);
  if (retiring && renewed.length) await publish('certificates');

  // 3. A retired root goes once every leaf comes from the current one.
  if (retiring) {
    options.onProgress?.('dropping the previous mesh CA from the trust bundle');
    await applyTrust(store, plan, [pair.cert], envoys, options, since);
    await store.dropPreviousCa();
  }
  for (const identity of plan.identities) await prune(store, identity);
  return describeAll(store, plan, caSource, pair.cert, renewed, running);
}

async function issueFor(store: PkiStore, identity: Identity, ca: SigningCa, lifetimeMs: number, now: Date, sds: SdsRenderer): Promise<void> {
  const { issueLeaf, leafValidity } = await x509();
  const leaf = await issueLeaf(ca, { spiffeId: identity.spiffeId, ...leafValidity(now, lifetimeMs) });
  const files = await store.writeLeaf(identity, leaf);
  // The SDS file is renamed into place after the PEM files it names: Envoy reads a complete pair.
  if (identity.envoy) await store.writeIdentityFile(identity, SDS_FILES.certificate, sds.certificate(files).text);
}

/** A running Envoy of the mesh: the pod, its identity, and its admin socket. */
interface RunningEnvoy {
  readonly identity: string;
  readonly pod: string;
  readonly socket: string;
}

/** The deployment's running pods, as podman lists them; none if podman cannot say. */
async function runningPods(specName: string): Promise<RunningPod[]> {
  return (await listPods(specName).catch(() => [])).filter((p) => p.status === 'Running');
}

function runningEnvoys(plan: MeshTlsPlan, roots: StateRoots, running: readonly RunningPod[]): RunningEnvoy[] {
  const names = new Set(plan.identities.filter((i) => i.envoy).map((i) => i.name));
  return running
    .filter((p) => names.has(p.service))
    .map((p) => ({ identity: p.service, pod: p.name, socket: podPaths(roots, plan.specName, p.name).adminSocket }));
}

function bundleName(bundle: string): string {
  return `trust-${createHash('sha256').update(bundle).digest('hex').slice(0, 12)}.pem`;
}

/** Writes the trust bundle of `roots` where it differs; says whether an Envoy's bundle changed. */
async function applyTrust(store: PkiStore, plan: MeshTlsPlan, roots: readonly string[], envoys: readonly RunningEnvoy[], options: PkiOptions, since: Date): Promise<boolean> {
  const bundle = roots.map((r) => (r.endsWith('\n') ? r : `${r}\n`)).join('');
  const changed: { identity: string; sds: SdsFile }[] = [];
  for (const identity of plan.identities) {
    if (!identity.envoy) {
      await store.writeIdentityFile(identity, 'trust.pem', bundle, 0o444);
      continue;
    }
    const name = bundleName(bundle);
    const sds = options.sds.trust(name);
    if ((await store.readIdentityFile(identity, SDS_FILES.trust)) === sds.text) continue;
    await store.writeIdentityFile(identity, name, bundle);
    await store.writeIdentityFile(identity, SDS_FILES.trust, sds.text);
    changed.push({ identity: identity.name, sds });
  }
  for (const { identity, sds } of changed) await waitForSecret(envoys.filter((e) => e.identity === identity), SDS_SECRETS.trust, sds.version, options, since);
  return changed.length > 0;
}

async function applyCertificates(store: PkiStore, plan: MeshTlsPlan, envoys: readonly RunningEnvoy[], options: PkiOptions, since: Date): Promise<void> {
  for (const identity of plan.identities.filter((i) => i.envoy)) {
    const text = await store.readIdentityFile(identity, SDS_FILES.certificate);
    const version = text && /^version_info: "([^"]+)"/m.exec(text)?.[1];
    if (version) await waitForSecret(envoys.filter((e) => e.identity === identity.name), SDS_SECRETS.certificate, version, options, since);
  }
}

/**
 * Waits until each Envoy runs the secret's version; a file refused since `since` fails within
 * half a second. An Envoy that has no such secret at all runs a config without mTLS (a pod
 * that this play replaces because mTLS was just turned on): there is nothing for it to load.
 */
async function waitForSecret(envoys: readonly RunningEnvoy[], secret: string, version: string, options: PkiOptions, since: Date): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (const envoy of envoys) {
    const refused = refusalWatch(envoy.pod, since);
    const started = Date.now();
    for (let first = true; ; first = false) {
      // An admin API that does not answer yet is asked again.
      const versions = await secretVersions(envoy.socket).catch((error: unknown) => {
        if (error instanceof PodvoyError) throw error;
        return undefined;
      });
      if (versions?.[secret] === version || (first && versions && !(secret in versions))) break;
      const why = await refused();
      if (why !== undefined) throw new CertificateError(`Envoy in ${envoy.pod} refused the new ${secret} (version ${version}) and keeps the previous one: ${why}`);
      if (Date.now() - started > timeoutMs) {
        throw new CertificateError(`Envoy in ${envoy.pod} did not load the new ${secret} (version ${version}) within ${(timeoutMs / 1000).toFixed(0)} s. \`podvoy logs\` shows what Envoy said.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function prune(store: PkiStore, identity: Identity): Promise<void> {
  if (!identity.envoy) return;
  const keep: string[] = [];
  for (const file of [SDS_FILES.certificate, SDS_FILES.trust]) {
    const text = await store.readIdentityFile(identity, file);
    if (text !== undefined) keep.push(...Object.values(sdsFileNames(text)));
  }
  await store.pruneIdentity(identity, keep);
}

async function describeAll(
  store: PkiStore,
  plan: MeshTlsPlan,
  source: 'podvoy' | 'user',
  caPem: string,
  renewed: readonly string[],
  pods: readonly RunningPod[],
): Promise<CertificatesResult> {
  const ca = new X509Certificate(caPem);
  const certificates: CertificateInfo[] = [];
  for (const identity of plan.identities) {
    const leaf = await store.currentLeaf(identity);
    if (!leaf) continue;
    const notBefore = new Date(leaf.cert.validFrom);
    const notAfter = new Date(leaf.cert.validTo);
    certificates.push({
      identity: identity.name,
      spiffeId: identity.spiffeId,
      serial: leaf.cert.serialNumber.toLowerCase(),
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      renewAfter: new Date(notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) / 2).toISOString(),
      envoys: identity.envoy ? pods.filter((p) => p.service === identity.name).map((p) => p.name) : [],
    });
  }
  return {
    spec: plan.specName,
    ca: { fingerprint: ca.fingerprint256, source, notAfter: new Date(ca.validTo).toISOString() },
    certificates,
    renewed,
  };
}
