import os from 'node:os';
import { run } from './support.js';

/** The machine and the versions a run measured, read from what actually ran. */
export interface Host {
  readonly date: string;
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly podman: string;
  readonly runc: string;
  /** podman's log driver: where every access-log line the containers print goes. */
  readonly logDriver: string;
  readonly wrk: string;
  readonly h2load: string;
}

export interface Machine extends Host {
  /** As the Envoy and nginx in the benchmark's pods report themselves. */
  readonly envoy: string;
  readonly nginx: string;
  readonly images: readonly string[];
}

/** Both of a program's output streams (nginx -v and wrk print to stderr); whatever the exit code. */
async function output(file: string, args: string[]): Promise<string> {
  return run(file, args).then(
    (r) => `${r.stdout}\n${r.stderr}`,
    (e: { stdout?: string; stderr?: string; message: string }) => `${e.stdout ?? ''}\n${e.stderr ?? ''}` || e.message,
  );
}

/** The machine and the tools the benchmark runs, without asking any container. */
export async function describeHost(): Promise<Host> {
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    podman: (await output('podman', ['version', '--format', '{{.Client.Version}}'])).trim(),
    logDriver: (await output('podman', ['info', '--format', '{{.Host.LogDriver}}'])).trim(),
    runc: /runc version (\S+)/.exec(await output('runc', ['--version']))?.[1] ?? 'unknown',
    wrk: /wrk (\S+)/.exec(await output('wrk', ['--version']))?.[1] ?? 'unknown',
    h2load: /nghttp2\/(\S+)/.exec(await output('h2load', ['--version']))?.[1] ?? 'unknown',
  };
}

/** `envoyContainer` and `nginxContainer`: running containers of the benchmark, asked for their versions. */
export async function describeMachine(envoyContainer: string, nginxContainer: string): Promise<Machine> {
  const envoy = await output('podman', ['exec', envoyContainer, '/usr/local/bin/envoy', '--version']);
  const nginx = await output('podman', ['exec', nginxContainer, '/usr/sbin/nginx', '-v']);
  const images = await output('podman', ['inspect', '--format', '{{.ImageName}}', envoyContainer, nginxContainer]);
  return {
    ...(await describeHost()),
    envoy: /version: \S+\/(\d+\.\d+\.\d+)\//.exec(envoy)?.[1] ?? envoy.trim(),
    nginx: /nginx\/(\S+)/.exec(nginx)?.[1] ?? nginx.trim(),
    images: images.split('\n').map((l) => l.trim()).filter(Boolean),
  };
}
