import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { SDS_FILES, identityDir } from '../../src/mesh/identity.js';
import type { StateRoots } from '../../src/mesh/layout.js';
import { podmanJson } from './e2e.js';

const exec = promisify(execFile);

/** The image the test client runs from: any local image will do, curl and its libraries come from the host. */
async function clientImage(): Promise<string> {
  const { stdout } = await exec('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/podvoy/envoy']);
  const image = stdout.split('\n').find(Boolean);
  if (!image) throw new Error('No localhost/podvoy/envoy image. Run scripts/setup (it builds the local images).');
  return image;
}

/**
 * Runs the host's curl in a container on a podman network: a client inside the mesh that is
 * none of its Envoys. `mounts` are host files made visible at the same paths.
 */
export async function curlOnNetwork(network: string, args: readonly string[], mounts: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    'run', '--rm', '--network', network,
    '--volume', '/usr/bin/curl:/usr/bin/curl:ro',
    '--volume', '/usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:ro',
    ...mounts.flatMap((m) => ['--volume', `${m}:${m}:ro`]),
    '--entrypoint', '/usr/bin/curl',
    await clientImage(),
    '--silent', '--show-error', '--max-time', '5', ...args,
  ];
  try {
    const { stdout, stderr } = await exec('podman', argv);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The PEM files of an identity's current certificate, as the SDS file names them. */
export async function identityFiles(roots: StateRoots, specName: string, identity: string): Promise<{ cert: string; key: string; trust: string }> {
  const dir = identityDir(roots, specName, identity);
  const sds = await readFile(path.join(dir, SDS_FILES.certificate), 'utf8');
  const trust = await readFile(path.join(dir, SDS_FILES.trust), 'utf8');
  const name = (text: string, re: RegExp) => path.join(dir, re.exec(text)![1]!);
  return {
    cert: name(sds, /\/([^/\s]+\.cert\.pem)/),
    key: name(sds, /\/([^/\s]+\.key\.pem)/),
    trust: name(trust, /\/(trust-[^/\s]+\.pem)/),
  };
}

/** A container's address on a network, as podman reports it. */
export async function addressOn(container: string, network: string): Promise<string> {
  const [inspect] = await podmanJson<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }[]>('container', 'inspect', container);
  return inspect!.NetworkSettings.Networks[network]!.IPAddress;
}

/** The main process of a container, to tell a restarted Envoy from one that kept running. */
export async function containerPid(container: string): Promise<number> {
  const [inspect] = await podmanJson<{ State: { Pid: number }; RestartCount: number }[]>('container', 'inspect', container);
  return inspect!.State.Pid;
}

/**
 * Opens a TLS connection with a client certificate and returns the serial of the certificate the
 * server presents: what is on the wire, not what is on disk.
 */
export async function servedSerial(host: string, port: number, client: { cert: string; key: string }): Promise<string> {
  const [cert, key] = await Promise.all([readFile(client.cert), readFile(client.key)]);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, cert, key, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
      socket.end();
      resolve(serial);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.once('error', reject);
  });
}
