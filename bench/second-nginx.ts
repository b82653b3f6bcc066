import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { answersInside } from './support.js';

/**
 * A second nginx in a pod's network namespace, serving the same site on loopback TCP and on a
 * unix socket at once: the socket try compares the two transports on the very same server
 * (the pod's own nginx listens on TCP only). It is the host's nginx binary, the one podvoy's
 * image is built from.
 */
export interface SecondNginx {
  readonly socket: string;
  stop(): Promise<void>;
}

export async function startSecondNginx(netnsPid: number, root: string, dir: string, port: number, probePath: string): Promise<SecondNginx> {
  // In a directory of its own, open to all: a reference Envoy in a container (uid 101) mounts it.
  const socketDir = path.join(dir, 'socket');
  await mkdir(socketDir, { mode: 0o755 });
  const socket = path.join(socketDir, 'nginx.sock');
  const conf = path.join(dir, 'nginx.conf');
  // As podvoy's nginx.conf serves files, without its access log (the comparison is the transport).
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
# The site sits in the benchmark's root-only scratch directory.
user root;
error_log ${dir}/nginx-error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    open_file_cache max=1000 inactive=30s;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    server {
        listen 127.0.0.1:${port};
        listen unix:${socket};
        root ${root};
    }
}
`,
  );
  const child = spawn('nsenter', ['-t', String(netnsPid), '-n', 'nginx', '-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGQUIT');
    await exited;
  };
  try {
    await answersInside(netnsPid, `http://127.0.0.1:${port}${probePath}`, 15_000);
    await chmod(socket, 0o666);
  } catch (error) {
    await stop();
    throw new Error(`the second nginx did not serve ${probePath} (see ${dir}/nginx-error.log): ${(error as Error).message}`);
  }
  return { socket, stop };
}
