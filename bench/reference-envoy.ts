import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { answersInside } from './support.js';

/**
 * Reference Envoys for the data plane: the smallest configuration that does the same hop as
 * one of podvoy's (one listener, one route, one static cluster, no access log, the same
 * concurrency), run from the same Envoy binary inside the same pod's network namespace. What
 * podvoy's configuration costs beyond the hop itself is the difference between the two.
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
  stop(): Promise<void>;
}

let baseId = 1000;

/** Starts a reference Envoy inside the network namespace of `netnsPid`, ready once `probePath` answers 200. */
export async function startReference(hop: ReferenceHop, netnsPid: number, dir: string, probePath: string): Promise<RunningReference> {
  const config = path.join(dir, `reference-${hop.port}.json`);
  await writeFile(config, referenceConfig(hop));
  const child: ChildProcess = spawn(
    'nsenter',
    ['-t', String(netnsPid), '-n', 'envoy', '-c', config, '--concurrency', String(hop.concurrency), '--base-id', String(baseId++), '--disable-hot-restart', '--log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${hop.port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await answersInside(netnsPid, `${url}${probePath}`, 15_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

