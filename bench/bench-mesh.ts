import { randomBytes } from 'node:crypto';
import { play, status } from '../src/index.js';
import { networkName } from '../src/mesh/names.js';
import { freePort, netnsPid, podman, pollUntil, uniqueName, workspace, type Workspace } from './support.js';

/**
 * The mesh the data-plane, memory and mesh-change sections share: a gateway (plain HTTP, so
 * that every path speaks the same protocol to the client) in front of two static services.
 * `site` holds the 1 KiB and 100 KiB files; `alt` exists so that a route can move between two
 * services whose /whoami.txt differ.
 */
export interface BenchMesh {
  readonly name: string;
  readonly ws: Workspace;
  readonly file: string;
  readonly gatewayUrl: string;
  /** Pod names by service (`gateway`, `site`, `alt`). */
  readonly pods: Readonly<Record<string, string>>;
  /** The host PID of a process inside the site pod's network namespace. */
  readonly siteNetns: number;
  /** The same for the gateway's pod. */
  readonly gatewayNetns: number;
  /** The site pod's address on the mesh network. */
  readonly siteAddress: string;
  /** Rewrites the spec with /whoami.txt routed to that service, and returns the spec's path. */
  routeWhoamiTo(service: 'site' | 'alt'): Promise<string>;
}

/** The static files the data plane fetches, by size label. */
export const PAYLOADS = { '1KiB': '/1k.bin', '100KiB': '/100k.bin' } as const;
/** Where nginx and the sidecar listen inside a service's pod (podvoy's defaults). */
export const POD_PORTS = { nginx: 8080, sidecar: 10000 } as const;

/**
 * With `mtls` false the mesh runs plain HTTP between its Envoys (the data plane's path (b)
 * requests the sidecar from inside its pod without a certificate); the mTLS section plays a
 * second mesh with mTLS on to compare.
 */
export function benchMeshSpec(name: string, httpPort: number, whoami: 'site' | 'alt', mtls = false, accessLog: 'text' | 'json' = 'text'): string {
  return `name: ${name}
${mtls ? '' : 'mtls: false\n'}${accessLog === 'json' ? 'accessLog: json\n' : ''}gateway:
  http: ${httpPort}
  routes:
  - prefix: /whoami.txt
    service: ${whoami}
  - prefix: /
    service: site
services:
  site:
    static: ./site
  alt:
    static: ./alt
`;
}

export async function playBenchMesh(options: { mtls?: boolean; accessLog?: 'text' | 'json' } = {}): Promise<BenchMesh> {
  const ws = await workspace();
  const name = uniqueName(options.mtls ? 'benchmt' : 'benchdp');
  const port = await freePort();
  await ws.write({
    'site/index.html': '<!doctype html><title>site</title>\n',
    'site/whoami.txt': 'site\n',
    'site/1k.bin': randomBytes(1024),
    'site/100k.bin': randomBytes(100 * 1024),
    'alt/index.html': '<!doctype html><title>alt</title>\n',
    'alt/whoami.txt': 'alt\n',
  });
  const routeWhoamiTo = (service: 'site' | 'alt') => ws.writeSpec(name, benchMeshSpec(name, port, service, options.mtls, options.accessLog));
  const file = await routeWhoamiTo('site');
  await play(file, { roots: ws.roots });
  const gatewayUrl = `http://127.0.0.1:${port}`;
  await pollUntil(`${gatewayUrl}${PAYLOADS['1KiB']}`, (r) => r.status === 200, { intervalMs: 50, timeoutMs: 30_000 });
  const envoys = (await status(name, { roots: ws.roots })).envoys;
  const pods = Object.fromEntries(envoys.map((e) => [e.service, e.pod]));
  const siteAddress = await podman('inspect', '--format', `{{(index .NetworkSettings.Networks "${networkName({ name })}").IPAddress}}`, `${pods.site!}-nginx`);
  return { name, ws, file, gatewayUrl, pods, siteNetns: await netnsPid(pods.site!), gatewayNetns: await netnsPid(pods.gateway!), siteAddress, routeWhoamiTo };
}
