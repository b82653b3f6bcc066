import { execFile } from 'node:child_process';
import { access, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { KUBE_CACHE } from './kube-cluster.js';

const exec = promisify(execFile);

/**
 * What a test cluster can change on the host, one category per key, each a sorted list of
 * lines: iptables and ip6tables rules (filter, nat, mangle, raw), the sysctls the node sets,
 * links, addresses and routes, mounts, top-level cgroups, podman's networks, the host paths
 * kubelet and containerd create, and processes running from the cluster's cache.
 *
 * podman's own churn is left out, because podman end-to-end tests add and remove it in the
 * same run (and other users of a shared machine may too): NETAVARK rules, podman* links and
 * their veths, podman's container mounts and /run/netns/netns-* entries, libpod cgroups, and
 * the podvoy-* test networks. Everything else must be as it was.
 */
export type HostSnapshot = Record<string, string[]>;

/** The sysctls compared: those the kubelet and kube-proxy set, and those a bridge CNI needs. */
export const SNAPSHOT_SYSCTLS = [
  'vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes', 'net.ipv4.conf.all.route_localnet',
  'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established', 'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
] as const;

/** Host paths a kubelet or containerd creates whatever it is told. */
export const SNAPSHOT_PATHS = [
  '/var/lib/kubelet', '/var/lib/cni', '/run/containerd', '/var/log/containers',
  '/var/lib/podvoy-kube', '/run/podvoy-kube.active',
] as const;

const IPTABLES_TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;
const PODMAN_LINK = /^podman\d*$/;

/** iptables-save output without comments, counters and podman's (netavark's) rules. */
export function normalizeIptables(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#') && !line.includes('NETAVARK'))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ''));
}

interface IpLink { ifname: string; link_type?: string; master?: string }
interface IpAddr extends IpLink { addr_info?: { local: string; prefixlen: number }[] }
interface IpRoute { dst: string; dev?: string; gateway?: string }

const podmanOwned = (link: IpLink) => PODMAN_LINK.test(link.ifname) || PODMAN_LINK.test(link.master ?? '');

/** `ip -j link show`: name, type and bridge of every link that is not podman's. */
export function normalizeLinks(links: IpLink[]): string[] {
  return links.filter((l) => !podmanOwned(l)).map((l) => `${l.ifname} ${l.link_type ?? '?'} master=${l.master ?? '-'}`);
}

/** `ip -j addr show`: every address of every link that is not podman's. */
export function normalizeAddresses(links: IpAddr[]): string[] {
  return links
    .filter((l) => !podmanOwned(l))
    .flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`));
}

/** `ip -j route show`: routes that are not through a podman bridge. */
export function normalizeRoutes(routes: IpRoute[]): string[] {
  return routes.filter((r) => !PODMAN_LINK.test(r.dev ?? '')).map((r) => `${r.dst} dev=${r.dev ?? '-'} via=${r.gateway ?? '-'}`);
}

/** /proc/self/mountinfo: mount point and type of every mount that is not one of podman's containers'. */
export function normalizeMounts(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const fstype = fields[fields.indexOf('-') + 1];
      return `${fields[4]} ${fstype}`;
    })
    .filter((m) => !/^\/(var\/lib\/containers|run\/containers|run\/libpod)\//.test(m) && !m.startsWith('/run/netns/netns-'));
}

/** `podman network ls` names, without the unique podvoy-* networks the podman tests make. */
export function normalizePodmanNetworks(names: string): string[] {
  return names.split('\n').filter((n) => n && !n.startsWith('podvoy-'));
}

/** Every line added (+) or removed (-) per category, multiset-wise: `nat: + -A ...`. */
export function diffHostSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  const changes: string[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const remaining = new Map<string, number>();
    for (const line of before[key] ?? []) remaining.set(line, (remaining.get(line) ?? 0) + 1);
    const added: string[] = [];
    for (const line of after[key] ?? []) {
      const n = remaining.get(line) ?? 0;
      if (n > 0) remaining.set(line, n - 1);
      else added.push(line);
    }
    for (const [line, n] of remaining) for (let i = 0; i < n; i++) changes.push(`${key}: - ${line}`);
    for (const line of added) changes.push(`${key}: + ${line}`);
  }
  return changes;
}

async function run(file: string, args: string[]): Promise<string> {
  const { stdout } = await exec(file, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/**
 * One table's rules. An nf_tables dump fails now and then while another process changes the
 * ruleset (netavark, kube-proxy): retried. A table that never reads means no rules.
 */
async function iptablesSave(tool: 'iptables' | 'ip6tables', table: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await run(`${tool}-save`, ['-t', table]);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return '';
}

/** Takes a snapshot of the host as the cluster tests compare it (run as root). */
export async function takeHostSnapshot(): Promise<HostSnapshot> {
  const snapshot: HostSnapshot = {};
  for (const tool of ['iptables', 'ip6tables'] as const) {
    for (const table of IPTABLES_TABLES) {
      snapshot[`${tool} ${table}`] = normalizeIptables(await iptablesSave(tool, table));
    }
  }
  snapshot.sysctl = await Promise.all(
    SNAPSHOT_SYSCTLS.map(async (key) => {
      const value = await readFile(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').catch(() => 'absent\n');
      return `${key}=${value.trim()}`;
    }),
  );
  snapshot.links = normalizeLinks(JSON.parse(await run('ip', ['-j', 'link', 'show'])) as IpLink[]);
  snapshot.addresses = normalizeAddresses(JSON.parse(await run('ip', ['-j', 'addr', 'show'])) as IpAddr[]);
  snapshot.routes = normalizeRoutes(JSON.parse(await run('ip', ['-j', 'route', 'show'])) as IpRoute[]);
  snapshot.mounts = normalizeMounts(await readFile('/proc/self/mountinfo', 'utf8'));
  snapshot.cgroups = [];
  for (const hierarchy of await readdir('/sys/fs/cgroup')) {
    const entries = await readdir(path.join('/sys/fs/cgroup', hierarchy), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('libpod')) snapshot.cgroups.push(`${hierarchy}/${e.name}`);
  }
  snapshot['podman networks'] = normalizePodmanNetworks(await run('podman', ['network', 'ls', '--format', '{{.Name}}']));
  snapshot.paths = [];
  for (const p of SNAPSHOT_PATHS) if (await exists(p)) snapshot.paths.push(p);
  for (const n of await readdir('/run/netns').catch(() => [])) if (!n.startsWith('netns-')) snapshot.paths.push(`/run/netns/${n}`);
  snapshot.processes = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    // Daemons only: anyone may run the cache's kubectl or ctr, at any time.
    if (exe.startsWith(`${KUBE_CACHE}/`) && !/\/(kubectl|ctr)$/.test(exe)) snapshot.processes.push(exe);
  }
  for (const key of Object.keys(snapshot)) snapshot[key]!.sort();
  return snapshot;
}
