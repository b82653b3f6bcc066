import type { LiveMesh } from '../../mesh/live.js';
import type { StateRoots } from '../../mesh/layout.js';
import { readStatus } from './status.js';
import { readTop } from './top.js';

/**
 * What the graph shows of a running deployment: each pod and whether every Envoy that sends to
 * it finds it healthy (and it is ready), and each caller's traffic to each service over the window.
 */
export async function readLiveMesh(specName: string, roots: StateRoots, windowMs: number): Promise<LiveMesh> {
  const report = await readTop(specName, roots, { windowMs });
  const status = await readStatus(specName, roots);
  const failuresOf = new Map<string, Set<string>>();
  for (const envoy of status.envoys) {
    for (const cluster of envoy.clusters) {
      for (const host of cluster.hosts) {
        const failures = failuresOf.get(host.hostname) ?? new Set<string>();
        if (!host.healthy) for (const f of host.failures.length ? host.failures : ['pending']) failures.add(f);
        failuresOf.set(host.hostname, failures);
      }
    }
  }
  return {
    windowSeconds: report.windowSeconds,
    pods: status.envoys.map((e) => {
      const failures = [...(failuresOf.get(e.pod) ?? []), ...(e.ready ? [] : [`not ready (${e.podStatus})`])];
      return { service: e.service, pod: e.pod, healthy: failures.length === 0, failures };
    }),
    traffic: report.rows.filter((r) => r.view !== 'inbound').map((r) => ({ from: r.from, to: r.service, rps: r.rps, successRate: r.successRate })),
  };
}
