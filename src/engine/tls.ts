import { access, chmod } from 'node:fs/promises';
import path from 'node:path';
import { EngineCommandError } from '../errors.js';
import { runProgram } from './exec.js';
import { ensureDir } from './files.js';

/**
 * Makes a self-signed certificate for local use (localhost and 127.0.0.1) unless one is there.
 * The key is created with mode 0600 in a 0700 directory and never copied anywhere else.
 */
export async function ensureSelfSignedCertificate(cert: string, key: string): Promise<void> {
  const present = await Promise.all([cert, key].map((f) => access(f).then(() => true, () => false)));
  if (present.every(Boolean)) return;
  await ensureDir(path.dirname(cert));
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
  await chmod(key, 0o600);
}
