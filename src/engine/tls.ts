import { access, chmod, chown, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineCommandError } from '../errors.js';
import { runProgram } from './exec.js';
import { ensureDir } from './files.js';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** The user's files to copy; without them a self-signed pair is generated once. */
  readonly source?: { readonly cert: string; readonly key: string };
}

/**
 * Puts the gateway's certificate and key where the pod mounts them, readable by the container
 * user alone: the key is mode 0400 in a 0700 directory, and is never rendered into a config.
 */
export async function prepareTls(files: TlsFiles, uid: number): Promise<void> {
  await ensureDir(path.dirname(files.cert));
  if (files.source) {
    await copyFile(files.source.cert, files.cert);
    await copyFile(files.source.key, files.key);
  } else {
    await ensureSelfSignedCertificate(files.cert, files.key);
  }
  await chmod(files.key, 0o400);
  await chmod(files.cert, 0o444);
  for (const f of [path.dirname(files.cert), files.cert, files.key]) await chown(f, uid, uid);
}

/** Makes a self-signed certificate for local use (localhost and 127.0.0.1) unless one is there. */
export async function ensureSelfSignedCertificate(cert: string, key: string): Promise<void> {
  const present = await Promise.all([cert, key].map((f) => access(f).then(() => true, () => false)));
  if (present.every(Boolean)) return;
  const result = await runProgram(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '825', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1',
      '-keyout', key, '-out', cert,
    ],
    { installHint: 'Install openssl (apt-get install openssl), or name your own tls.cert and tls.key in the spec.' },
  );
  if (result.exitCode !== 0) throw new EngineCommandError(result.argv, result.exitCode, result.stderr);
}
