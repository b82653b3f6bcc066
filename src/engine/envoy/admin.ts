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

/** The versions of the xDS files an Envoy last accepted, by file kind; absent until it has accepted one. */
export interface XdsVersions {
  clusters?: string;
  listeners?: string;
  routes?: string;
}

/**
 * The version of every file an Envoy watches that it last accepted, by its subscription's stat
 * name: each subscription's `version_text`, which Envoy sets on every file it accepts. Not the
 * config dump's versions: a file whose resources did not change (the same mesh written by
 * another podvoy release) is accepted, but the dump keeps the version of the last real change,
 * and a wait for the new one would never end.
 */
async function acceptedVersions(socket: string): Promise<Map<string, string>> {
  const json = await adminJson<{ stats?: { name: string; value?: unknown }[] }>(socket, `/stats?format=json&filter=${encodeURIComponent('\\.version_text$')}`);
  return new Map((json.stats ?? []).filter((s) => typeof s.value === 'string').map((s) => [s.name, s.value as string]));
}

/** The xDS versions an Envoy last accepted (its routes: every route subscription agreeing). */
export async function xdsVersions(socket: string): Promise<XdsVersions> {
  const accepted = await acceptedVersions(socket);
  const routes = new Set([...accepted].filter(([name]) => /\.rds\.[^.]+\.version_text$/.test(name)).map(([, v]) => v));
  const versions: XdsVersions = {};
  const clusters = accepted.get('cluster_manager.cds.version_text');
  const listeners = accepted.get('listener_manager.lds.version_text');
  if (clusters) versions.clusters = clusters;
  if (listeners) versions.listeners = listeners;
  if (routes.size === 1) versions.routes = [...routes][0]!;
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

/** The version of each SDS secret an Envoy last accepted, by secret name; a secret it has none of is absent. */
export async function secretVersions(socket: string): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const [name, version] of await acceptedVersions(socket)) {
    const secret = /^sds\.(.+)\.version_text$/.exec(name)?.[1];
    if (secret && version) versions[secret] = version;
  }
  return versions;
}
