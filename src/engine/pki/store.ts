import { X509Certificate } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { IN_POD } from '../../mesh/contract.js';
import { SDS_FILES, caDir, identityDir, pkiDir, type Identity, type MeshTlsPlan } from '../../mesh/identity.js';
import type { StateRoots } from '../../mesh/layout.js';
import { watchedFileResources } from '../../render/watched-file.js';
import type { KeyPair } from './x509.js';

/**
 * The pki's files on the host. The CA lives in a directory of root's alone (key mode 0400);
 * each identity has a directory that its Envoys mount, owned by the container user, holding
 * versioned PEM files and the SDS files that name the current ones. Every write is a temp file
 * renamed into the same directory: Envoy watches the directory, and inotify sees a rename only
 * within one mount.
 */

export const CA_FILES = { cert: 'ca.pem', key: 'ca-key.pem', previous: 'previous.pem', state: 'state.json' } as const;

/** What `play` last asked of the pki, so that `certs renew` and the timer work from the deployment's name. */
export interface PkiState {
  readonly plan: MeshTlsPlan;
  /** Whether the current CA is the user's (copied from the spec) or one podvoy made. */
  readonly caSource: 'podvoy' | 'user';
}

/** Writes a file atomically, owned by `uid` with `mode` before it appears under its name. */
export async function writeOwned(file: string, content: string, mode: number, uid = 0): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, content, { mode });
    if (uid !== 0) await chown(temp, uid, uid);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/**
 * The files an SDS file names, by role, as base names in its directory: what Envoy loads, and
 * so what must stay on disk.
 */
export function sdsFileNames(text: string): { cert?: string; key?: string; trust?: string } {
  const resources = watchedFileResources(text) ?? (parse(text) as { resources?: unknown[] } | null)?.resources;
  const secret = resources?.[0] as Record<string, Record<string, { filename?: string }> | undefined> | undefined;
  const base = (file: string | undefined) => (file === undefined ? undefined : path.posix.basename(file));
  const names = {
    cert: base(secret?.tls_certificate?.certificate_chain?.filename),
    key: base(secret?.tls_certificate?.private_key?.filename),
    trust: base(secret?.validation_context?.trusted_ca?.filename),
  };
  return Object.fromEntries(Object.entries(names).filter(([, v]) => v !== undefined));
}

export class PkiStore {
  constructor(
    readonly roots: StateRoots,
    readonly specName: string,
  ) {}

  get caDir(): string {
    return caDir(this.roots, this.specName);
  }

  /** Makes the pki's directories: root's alone, but for the identities' own, which their Envoys read. */
  async prepare(identities: readonly Identity[]): Promise<void> {
    await mkdir(pkiDir(this.roots, this.specName), { recursive: true, mode: 0o700 });
    await mkdir(this.caDir, { recursive: true, mode: 0o700 });
    for (const identity of identities) {
      const dir = this.identityDir(identity.name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (identity.envoy) await chown(dir, IN_POD.uid, IN_POD.uid);
    }
  }

  async readState(): Promise<PkiState | undefined> {
    const text = await readOptional(path.join(this.caDir, CA_FILES.state));
    return text === undefined ? undefined : (JSON.parse(text) as PkiState);
  }

  async writeState(state: PkiState): Promise<void> {
    await writeOwned(path.join(this.caDir, CA_FILES.state), `${JSON.stringify(state, null, 2)}\n`, 0o600);
  }

  async readCa(): Promise<KeyPair | undefined> {
    const [cert, key] = await Promise.all([CA_FILES.cert, CA_FILES.key].map((f) => readOptional(path.join(this.caDir, f))));
    return cert !== undefined && key !== undefined ? { cert, key } : undefined;
  }

  /** The root trusted beside the current one while a CA rotation is under way. */
  async readPreviousCa(): Promise<string | undefined> {
    return readOptional(path.join(this.caDir, CA_FILES.previous));
  }

  /**
   * Makes `next` the CA that signs. With `keepTrusting`, the current root stays in the trust
   * bundle (previous.pem) until every certificate it signed is replaced.
   */
  async replaceCa(next: KeyPair, keepTrusting: string | undefined): Promise<void> {
    if (keepTrusting !== undefined) await writeOwned(path.join(this.caDir, CA_FILES.previous), keepTrusting, 0o400);
    await writeOwned(path.join(this.caDir, CA_FILES.key), next.key, 0o400);
    await writeOwned(path.join(this.caDir, CA_FILES.cert), next.cert, 0o444);
  }

  async dropPreviousCa(): Promise<void> {
    await rm(path.join(this.caDir, CA_FILES.previous), { force: true });
  }

  identityDir(identity: string): string {
    return identityDir(this.roots, this.specName, identity);
  }

  /** The identity's certificate now in use: the one its SDS file names (or, for podvoy's own, cert.pem). */
  async currentLeaf(identity: Identity): Promise<{ cert: X509Certificate; pem: string; file: string } | undefined> {
    const dir = this.identityDir(identity.name);
    let file: string | undefined;
    if (identity.envoy) {
      const sds = await readOptional(path.join(dir, SDS_FILES.certificate));
      file = sds === undefined ? undefined : sdsFileNames(sds).cert;
    } else {
      file = 'cert.pem';
    }
    if (!file) return undefined;
    const pem = await readOptional(path.join(dir, file));
    return pem === undefined ? undefined : { cert: new X509Certificate(pem), pem, file };
  }

  /** Writes a new certificate and key beside the current ones; returns their file names. */
  async writeLeaf(identity: Identity, pair: KeyPair & { serial: string }): Promise<{ cert: string; key: string }> {
    const dir = this.identityDir(identity.name);
    const uid = identity.envoy ? IN_POD.uid : 0;
    const names = identity.envoy ? { cert: `${pair.serial}.cert.pem`, key: `${pair.serial}.key.pem` } : { cert: 'cert.pem', key: 'key.pem' };
    await writeOwned(path.join(dir, names.key), pair.key, 0o400, uid);
    await writeOwned(path.join(dir, names.cert), pair.cert, 0o444, uid);
    return names;
  }

  async writeIdentityFile(identity: Identity, name: string, content: string, mode = 0o444): Promise<void> {
    await writeOwned(path.join(this.identityDir(identity.name), name), content, mode, identity.envoy ? IN_POD.uid : 0);
  }

  async readIdentityFile(identity: Identity, name: string): Promise<string | undefined> {
    return readOptional(path.join(this.identityDir(identity.name), name));
  }

  /** Removes the PEM files of earlier versions, once every Envoy runs the current ones. */
  async pruneIdentity(identity: Identity, keep: readonly string[]): Promise<void> {
    const dir = this.identityDir(identity.name);
    const kept = new Set([...keep, SDS_FILES.certificate, SDS_FILES.trust]);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('.pem') && !kept.has(name)) await rm(path.join(dir, name), { force: true });
    }
  }
}
