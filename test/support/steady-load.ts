import https from 'node:https';
import { readFile } from 'node:fs/promises';

/** Requests sent while something changes, and every one that did not get its expected answer. */
export interface LoadReport {
  readonly sent: number;
  readonly failures: readonly string[];
}

export interface SteadyLoad {
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<LoadReport>;
  /** Requests answered so far. */
  readonly sent: () => number;
}

/**
 * Keeps `concurrency` loops of requests going until stopped. Each request is made by `send`,
 * which resolves to a failure's description or undefined.
 */
export function steadyLoad(concurrency: number, send: () => Promise<string | undefined>): SteadyLoad {
  let running = true;
  let sent = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (running) {
      const failure = await send().catch((error: unknown) => String((error as Error).message ?? error));
      sent++;
      if (failure) failures.push(failure);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    sent: () => sent,
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failures };
    },
  };
}

/** A GET through the gateway's plain HTTP port (keep-alive, as a browser would). */
export function gatewayGet(url: string): () => Promise<string | undefined> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200 ? undefined : `${url} answered ${res.status}`;
  };
}

/**
 * A GET straight to a sidecar over a new mTLS connection each time, with the certificate that
 * `files()` names at that moment: every request is a fresh handshake against what the sidecar
 * serves now.
 */
export function freshMtlsGet(host: string, port: number, path: string, files: () => Promise<{ cert: string; key: string }>): () => Promise<string | undefined> {
  return async () => {
    // A renewal may prune the files named a moment ago: read the names again then.
    const read = async () => {
      const { cert, key } = await files();
      return Promise.all([readFile(cert), readFile(key)]);
    };
    const [certPem, keyPem] = await read().catch(read);
    return new Promise((resolve) => {
      const req = https.get(
        { host, port, path, cert: certPem, key: keyPem, rejectUnauthorized: false, agent: false, timeout: 5000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200 ? undefined : `${host}:${port}${path} answered ${res.statusCode}`));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error) => resolve(`${host}:${port}${path} failed: ${error.message}`));
    });
  };
}
