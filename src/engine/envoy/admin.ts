import { adminGet } from './http.js';

/** Reads an Envoy's admin API through its admin socket: the facts podvoy waits on and reports. */

export interface HostStatus {
  /** The DNS name the endpoint was registered by (a pod's name). */
  readonly hostname: string;
  readonly address: string;
  readonly healthy: boolean;
  /** Failed flags Envoy reports, e.g. failed_active_health_check, failed_outlier_check. */
  readonly failures: readonly string[];
  readonly requests: number;
  readonly errors: number;
}

export interface ClusterStatus {
  readonly name: string;
  readonly hosts: readonly HostStatus[];
}

interface ClustersJson {
  cluster_statuses?: {
    name: string;
    host_statuses?: {
      hostname?: string;
      address?: { socket_address?: { address?: string; port_value?: number } };
      health_status?: Record<string, unknown> & { eds_health_status?: string };
      stats?: { name: string; value?: string | number }[];
    }[];
  }[];
}

async function adminJson<T>(socket: string, path: string): Promise<T> {
  const res = await adminGet(socket, path);
  if (res.status !== 200) throw new Error(`admin ${path} answered ${res.status}`);
  return JSON.parse(res.body.toString('utf8')) as T;
}

export async function isReady(socket: string): Promise<boolean> {
  return adminGet(socket, '/ready').then(
    (res) => res.status === 200,
    () => false,
  );
}

export async function clusterStatuses(socket: string): Promise<ClusterStatus[]> {
  const json = await adminJson<ClustersJson>(socket, '/clusters?format=json');
  return (json.cluster_statuses ?? []).map((c) => ({
    name: c.name,
    hosts: (c.host_statuses ?? []).map((h) => {
      const failures = Object.entries(h.health_status ?? {})
        .filter(([key, value]) => key.startsWith('failed_') && value === true)
        .map(([key]) => key);
      const stat = (name: string) => Number(h.stats?.find((s) => s.name === name)?.value ?? 0);
      const socketAddress = h.address?.socket_address;
      return {
        hostname: h.hostname ?? '',
        address: socketAddress ? `${socketAddress.address}:${socketAddress.port_value}` : '',
        healthy: (h.health_status?.eds_health_status ?? 'HEALTHY') === 'HEALTHY' && failures.length === 0,
        failures,
        requests: stat('rq_total'),
        errors: stat('rq_error'),
      };
    }),
  }));
}

/** The versions of the xDS files an Envoy runs, by file kind; absent until it has loaded one. */
export interface XdsVersions {
  clusters?: string;
  listeners?: string;
  routes?: string;
}

interface ConfigDump {
  configs?: { '@type': string; version_info?: string }[];
}

/**
 * Asks for the versions only (a full config dump is over 100 KB on a gateway, and a mesh
 * change polls this): the CDS and LDS versions from the top of their dumps, the RDS version
 * from the dynamic route configs.
 */
export async function xdsVersions(socket: string): Promise<XdsVersions> {
  const [dumps, routes] = await Promise.all([
    adminJson<ConfigDump>(socket, '/config_dump?mask=version_info'),
    adminJson<ConfigDump>(socket, '/config_dump?resource=dynamic_route_configs&mask=version_info'),
  ]);
  const versions: XdsVersions = {};
  for (const config of dumps.configs ?? []) {
    const type = config['@type'];
    if (type.endsWith('.ClustersConfigDump') && config.version_info) versions.clusters = config.version_info;
    if (type.endsWith('.ListenersConfigDump') && config.version_info) versions.listeners = config.version_info;
  }
  const route = routes.configs?.[0]?.version_info;
  if (route) versions.routes = route;
  return versions;
}

/** A counter or gauge by its full name; 0 when Envoy has not created it yet. */
export async function statValue(socket: string, name: string): Promise<number> {
  const escaped = name.replace(/[.]/g, '\\.');
  const json = await adminJson<{ stats?: { name: string; value?: number }[] }>(
    socket,
    `/stats?format=json&filter=${encodeURIComponent(`^${escaped}$`)}`,
  );
  return Number(json.stats?.find((s) => s.name === name)?.value ?? 0);
}

/**
 * The version of each SDS secret an Envoy runs, by secret name (the key material itself is
 * redacted by Envoy in the dump, and not read here).
 */
export async function secretVersions(socket: string): Promise<Record<string, string>> {
  const dump = await adminJson<{ configs?: { name?: string; version_info?: string }[] }>(socket, '/config_dump?resource=dynamic_active_secrets');
  const versions: Record<string, string> = {};
  for (const secret of dump.configs ?? []) if (secret.name && secret.version_info) versions[secret.name] = secret.version_info;
  return versions;
}
