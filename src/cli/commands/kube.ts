import { buildSiteImagesOf, kubeApply, kubeDelete, kubeDoctor, renderForKubernetes, type KubeOptions } from '../../index.js';
import { progressPrinter } from '../progress.js';
import { printChecks } from './doctor.js';
import type { KubeCliOptions } from './kube-options.js';

function options(opts: KubeCliOptions): KubeOptions {
  return {
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context ? { context: opts.context } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout * 1000 } : {}),
  };
}

export async function render(spec: string, opts: { out?: string; registry?: string }): Promise<void> {
  const manifests = await renderForKubernetes(spec, { ...(opts.out ? { outDir: opts.out } : {}), ...(opts.registry ? { registry: opts.registry } : {}) });
  process.stdout.write(opts.out ? `wrote ${opts.out}/kubernetes.yaml\n` : manifests.yaml);
}

export async function apply(spec: string, opts: KubeCliOptions): Promise<void> {
  const result = await kubeApply(spec, { ...options(opts), onProgress: progressPrinter() });
  process.stdout.write(`applied to namespace ${result.namespace} (Kubernetes ${result.server}) in ${(result.elapsedMs / 1000).toFixed(1)} s\n`);
  for (const { workload, url } of result.urls) process.stdout.write(`${workload}: ${url}\n`);
  if (result.pruned.length) process.stdout.write(`removed what the spec no longer has: ${result.pruned.join(', ')}\n`);
}

export async function del(spec: string, opts: KubeCliOptions): Promise<void> {
  const result = await kubeDelete(spec, options(opts));
  process.stdout.write(result.deleted ? `deleted namespace ${result.namespace}\n` : `nothing to delete: no namespace ${result.namespace}\n`);
}
export { del as delete };

export async function buildSites(spec: string, opts: { registry?: string; push?: boolean }): Promise<void> {
  const built = await buildSiteImagesOf(spec, { ...opts, onProgress: progressPrinter() });
  for (const image of built) process.stdout.write(`${image.service}: ${image.image}${image.pushed ? ' (pushed)' : ''}\n`);
}

export async function doctor(opts: KubeCliOptions & { json?: boolean; spec?: string }): Promise<void> {
  printChecks(await kubeDoctor(opts.spec, options(opts)), opts);
}
