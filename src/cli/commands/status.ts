import { status } from '../../index.js';

export async function run(spec: string, opts: { json?: boolean }): Promise<void> {
  const result = await status(spec);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (!result.envoys.length) {
    process.stdout.write(`Nothing of ${result.spec} is deployed.\n`);
    return;
  }
  for (const envoy of result.envoys) {
    const state = envoy.ready ? 'ready' : `not ready (${envoy.podStatus})`;
    process.stdout.write(`${envoy.service}  ${envoy.pod}  ${state}  requests ${envoy.requests}, 5xx ${envoy.errors}${envoy.denied ? `, denied ${envoy.denied}` : ''}${envoy.url ? `  ${envoy.url}` : ''}\n`);
    for (const cluster of envoy.clusters) {
      process.stdout.write(`  -> ${cluster.name}: ${cluster.hosts.length ? '' : 'no endpoints'}\n`);
      for (const host of cluster.hosts) {
        const health = host.healthy ? 'healthy' : `unhealthy (${host.failures.join(', ') || 'pending'})`;
        process.stdout.write(`     ${host.hostname || host.address}  ${health}  requests ${host.requests}, errors ${host.errors}\n`);
      }
    }
  }
}
