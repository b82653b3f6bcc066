import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IN_POD } from '../src/mesh/contract.js';
import { answersInside, podman } from './support.js';

/**
 * Reference Envoys for the data plane: the smallest configuration that does the same hop as
 * one of podvoy's (one listener, one route, one static cluster, no access log, the same
 * concurrency), run from the same Envoy image in a container of the same pod. What podvoy's
 * configuration costs beyond the hop itself is the difference between the two.
 */

export interface ReferenceHop {
  /** Where the reference listens inside the pod. */
  readonly port: number;
  /** What it forwards to: a TCP address, or a unix socket path. */
  readonly upstream: { readonly address: string; readonly port: number } | { readonly pipe: string };
  readonly http2Upstream: boolean;
  readonly concurrency: number;
}

/** The reference configuration: one listener, one route, one static cluster, nothing else. */
export function referenceConfig(hop: ReferenceHop): string {
  const address =
    'pipe' in hop.upstream
      ? { pipe: { path: hop.upstream.pipe } }
      : { socket_address: { address: hop.upstream.address, port_value: hop.upstream.port } };
  return JSON.stringify({
    static_resources: {
      listeners: [
        {
          name: 'in',
          address: { socket_address: { address: '0.0.0.0', port_value: hop.port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'in',
                    route_config: {
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'out' } }] }],
                    },
                    http_filters: [
                      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'out',
          type: 'STATIC',
          connect_timeout: '1s',
          ...(hop.http2Upstream
            ? {
                typed_extension_protocol_options: {
                  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                    explicit_http_config: { http2_protocol_options: {} },
                  },
                },
              }
            : {}),
          load_assignment: { cluster_name: 'out', endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
        },
      ],
    },
  });
}

export interface RunningReference {
  readonly url: string;
  /** The host PID of the reference's Envoy, whose CPU the data plane reads. */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Where a reference runs. `container`: in the pod of the Envoy it is compared with, from that
 * Envoy's image, with the same user and security settings as podvoy's containers (the default
 * seccomp profile included), so that a comparison with it is one of configurations alone.
 * `host`: a host process in the pod's network namespace, outside any container: what running
 * in a container costs at all.
 */
export type ReferencePlace = { readonly container: { readonly pod: string; readonly image: string } } | { readonly host: true };

let baseId = 1000;

/** Starts a reference Envoy in the network namespace of `netnsPid`, ready once `probePath` answers 200. */
export async function startReference(hop: ReferenceHop, place: ReferencePlace, netnsPid: number, dir: string, probePath: string): Promise<RunningReference> {
  const config = path.join(dir, `reference-${hop.port}.json`);
  await writeFile(config, referenceConfig(hop));
  const envoyArgs = ['--concurrency', String(hop.concurrency), '--base-id', String(baseId++), '--disable-hot-restart', '--log-level', 'error'];
  // A unix socket upstream is reached at the same path inside the container.
  const mounts = 'pipe' in hop.upstream ? [path.dirname(hop.upstream.pipe)] : [];
  const started = 'container' in place ? await inContainer(place.container, hop.port, config, envoyArgs, mounts) : await onHost(netnsPid, config, envoyArgs);
  const url = `http://127.0.0.1:${hop.port}`;
  try {
    await answersInside(netnsPid, `${url}${probePath}`, 15_000);
    return { url, pid: await started.pid(), stop: started.stop };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

interface Started {
  pid(): Promise<number>;
  stop(): Promise<void>;
}

async function inContainer(where: { pod: string; image: string }, port: number, config: string, envoyArgs: string[], mounts: string[]): Promise<Started> {
  const name = `${where.pod}-reference-${port}`;
  const inside = '/etc/podvoy/reference.json';
  // As podvoy's pod template runs its containers: uid 101, no capabilities, no privilege escalation, a read-only root.
  const security = ['--user', `${IN_POD.uid}:${IN_POD.uid}`, '--cap-drop', 'all', '--security-opt', 'no-new-privileges', '--read-only'];
  const stop = async () => {
    await podman('rm', '-f', '-t', '0', name).catch(() => undefined);
  };
  try {
    await podman('run', '-d', '--pod', where.pod, '--name', name, ...security, '-v', `${config}:${inside}:ro`, ...mounts.flatMap((dir) => ['-v', `${dir}:${dir}`]), where.image, '-c', inside, ...envoyArgs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: async () => Number(await podman('inspect', '--format', '{{.State.Pid}}', name)), stop };
}

async function onHost(netnsPid: number, config: string, envoyArgs: string[]): Promise<Started> {
  const child: ChildProcess = spawn('nsenter', ['-t', String(netnsPid), '-n', 'envoy', '-c', config, ...envoyArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    // nsenter execs Envoy after entering the namespace: the child's PID is Envoy's.
    pid: async () => child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
