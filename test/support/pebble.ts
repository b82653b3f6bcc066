import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './e2e.js';

/**
 * Pebble, Let's Encrypt's ACME test server, and pebble-challtestsrv answering DNS for every name
 * with 127.0.0.1, run for one test file. Built by scripts/pebble-build (scripts/test runs it).
 */

const exec = promisify(execFile);
const BIN = process.env.PODVOY_PEBBLE_DIR || '/var/cache/podvoy/pebble';

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** The CA certificate of Pebble's own HTTPS API (trust it to talk ACME). */
  readonly apiCa: string;
  /** The root that signs the certificates Pebble issues now (from its management interface). */
  root(): Promise<string>;
  /** Stops Pebble (its DNS server stays), for failure tests; `start` brings it back (with a new CA: Pebble keeps none). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Makes the DNS answer `address` for `host` (until `clearAddress`) instead of 127.0.0.1. */
  setAddress(host: string, address: string): Promise<void>;
  clearAddress(host: string): Promise<void>;
  close(): Promise<void>;
}

export interface PebbleOptions {
  /** The host port where Pebble's validator reaches HTTP-01 answers: the gateway's HTTP port. */
  readonly httpPort: number;
  /** Seconds a certificate is valid. */
  readonly validitySeconds?: number;
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  for (const bin of ['pebble', 'pebble-challtestsrv']) {
    await access(path.join(BIN, bin)).catch(() => {
      throw new Error(`${path.join(BIN, bin)} is missing. Run scripts/pebble-build (scripts/test does), which builds it from the Go module proxy.`);
    });
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-pebble-'));
  const [apiPort, managementPort, dnsPort, challManagement] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // Pebble's API is HTTPS only: a CA and a certificate for localhost, made here.
  await exec('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=pebble test', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
  const apiCa = await readFile(path.join(dir, 'cert.pem'), 'utf8');
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${apiPort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: path.join(dir, 'cert.pem'),
        privateKey: path.join(dir, 'key.pem'),
        httpPort: options.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        retryAfter: { authz: 1, order: 1 },
        profiles: { default: { description: 'podvoy tests', validityPeriod: options.validitySeconds ?? 3600 } },
      },
    }),
  );
  const children: ChildProcess[] = [];
  const log = path.join(dir, 'log');
  const run = (bin: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(path.join(BIN, bin), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    child.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.on('exit', () => void writeFile(`${log}-${bin}`, lines.join('')).catch(() => {}));
    children.push(child);
    return child;
  };
  run('pebble-challtestsrv', [
    '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
    '-dnsserver', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-doh', '',
    '-management', `127.0.0.1:${challManagement}`,
  ]);
  let pebble: ChildProcess | undefined;
  const start = async () => {
    pebble = run('pebble', ['-config', path.join(dir, 'config.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
    });
    await waitFor(() => get(`https://127.0.0.1:${apiPort}/dir`, apiCa).then(() => true, () => false), 'Pebble to answer');
  };
  const stopChild = async (child: ChildProcess | undefined) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    directory: `https://127.0.0.1:${apiPort}/dir`,
    apiCa,
    root: () => get(`https://127.0.0.1:${managementPort}/roots/0`, apiCa),
    stop: () => stopChild(pebble),
    setAddress: (host, address) => post(`http://127.0.0.1:${challManagement}/add-a`, { host: `${host}.`, addresses: [address] }),
    clearAddress: (host) => post(`http://127.0.0.1:${challManagement}/clear-a`, { host: `${host}.` }),
    start,
    close: async () => {
      for (const child of children) await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function post(url: string, body: object): Promise<void> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers: { 'user-agent': 'podvoy-tests' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
