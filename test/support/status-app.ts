import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** An HTTP app from an image: nginx on 127.0.0.1:3000 answering 500 at /fail and 200 ("ok") anywhere else. */
export const STATUS_APP = { image: 'localhost/podvoy-test/status-app:1', port: 3000 } as const;

const NGINX_CONF = `worker_processes 1;
daemon off;
error_log stderr warn;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {
        listen 127.0.0.1:${STATUS_APP.port};
        location = /fail { return 500 "fail\\n"; }
        location / { return 200 "ok\\n"; }
    }
}
`;

/** Builds the status app from the local nginx image (scripts/setup builds it); no registry. */
export async function buildStatusApp(): Promise<string> {
  const { stdout } = await exec('podman', ['images', '--filter', 'reference=localhost/podvoy/nginx', '--format', '{{.Repository}}:{{.Tag}}']);
  const nginx = stdout.split('\n').find(Boolean);
  if (!nginx) throw new Error('The image localhost/podvoy/nginx is missing. Run scripts/setup (or podvoy images build).');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-status-app-'));
  try {
    await writeFile(path.join(dir, 'nginx.conf'), NGINX_CONF);
    await writeFile(
      path.join(dir, 'Containerfile'),
      [`FROM ${nginx}`, 'COPY nginx.conf /etc/status-app/nginx.conf', 'USER 101:101', 'ENTRYPOINT ["/usr/sbin/nginx", "-c", "/etc/status-app/nginx.conf"]', ''].join('\n'),
    );
    await exec('podman', ['build', '-q', '-t', STATUS_APP.image, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return STATUS_APP.image;
}

/** Requests sent at a fixed rate, and when each was sent. */
export interface PacedLoad {
  /** Requests sent in [from, to) (performance.now() times), and how many of them went to `/fail`. */
  sentBetween(from: number, to: number): { sent: number; failing: number };
  /**
   * Requests answered in [from, to) (epoch milliseconds, as Envoy counts them: when the answer
   * completes), and how many of them were 500s. On a busy machine requests queue, so what was
   * answered in a window is what an Envoy counted in it, more closely than what was sent.
   */
  answeredBetween(from: number, to: number): { answered: number; failed: number };
  stop(): Promise<void>;
}

/**
 * Sends `rate` GETs a second to `base`, every `failEvery`-th one to `/fail` and the others to
 * `/`, on keep-alive connections, catching up when the event loop falls behind.
 */
export function pacedLoad(base: string, rate: number, failEvery: number): PacedLoad {
  const sends: { at: number; failing: boolean }[] = [];
  const answers: { at: number; status: number }[] = [];
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let n = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (n < due) {
      const failing = n % failEvery === failEvery - 1;
      n++;
      sends.push({ at: performance.now(), failing });
      const p = fetch(`${base}${failing ? '/fail' : '/'}`, { signal: AbortSignal.timeout(5000) })
        .then(async (res) => {
          await res.arrayBuffer();
          answers.push({ at: Date.now(), status: res.status });
        })
        .then(
          () => undefined,
          () => undefined,
        );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }, 5);
  return {
    sentBetween(from, to) {
      const within = sends.filter((s) => s.at >= from && s.at < to);
      return { sent: within.length, failing: within.filter((s) => s.failing).length };
    },
    answeredBetween(from, to) {
      const within = answers.filter((a) => a.at >= from && a.at < to);
      return { answered: within.length, failed: within.filter((a) => a.status === 500).length };
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(inflight);
    },
  };
}
