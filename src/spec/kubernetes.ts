/** `kubernetes`: settings that only the Kubernetes target reads. */
import type { SpecContext } from './context.js';
import { IMAGE_REF } from './fields.js';
import type { KubernetesOptions } from './model.js';
import type { Entry } from './positions.js';

export const KUBERNETES_KEYS = ['registry', 'expose', 'nodePorts'] as const;
const NODE_PORT_KEYS = ['http', 'https'] as const;
/** Kubernetes' default node port range (the apiserver's --service-node-port-range). */
const NODE_PORTS = { min: 30000, max: 32767 } as const;

export function readKubernetes(ctx: SpecContext, e: Entry): KubernetesOptions | undefined {
  const fields = ctx.problems.entries(e.value, e.path, KUBERNETES_KEYS);
  if (!fields) return undefined;
  const f = fields.get;
  const registry = f.registry && ctx.string(f.registry);
  if (registry !== undefined && (registry.endsWith('/') || !IMAGE_REF.test(`${registry}/site:tag`))) {
    ctx.fail(f.registry!.at, f.registry!.path, `${JSON.stringify(registry)} is not a registry and repository prefix. Write it like registry.example.com/team (no trailing slash, no tag).`);
  }
  const expose = f.expose && ctx.string(f.expose);
  if (expose !== undefined && expose !== 'NodePort' && expose !== 'LoadBalancer') {
    ctx.fail(f.expose!.at, f.expose!.path, `${JSON.stringify(expose)} is not a way to expose the gateway. Write NodePort or LoadBalancer.`);
  }
  const ports = f.nodePorts && ctx.problems.entries(f.nodePorts.value, f.nodePorts.path, NODE_PORT_KEYS);
  const nodePort = (p: Entry | undefined) => p && ctx.bounded(p, 'a node port', NODE_PORTS.min, NODE_PORTS.max);
  const nodePorts = ports && { http: nodePort(ports.get.http), https: nodePort(ports.get.https) };
  if (nodePorts?.http !== undefined && nodePorts.http === nodePorts.https) {
    ctx.fail(ports!.get.https!.at, ports!.get.https!.path, `Node port ${nodePorts.http} is also nodePorts.http. Give each its own port.`);
  }
  return {
    ...(registry !== undefined && { registry }),
    ...((expose === 'NodePort' || expose === 'LoadBalancer') && { expose }),
    ...(nodePorts && {
      nodePorts: { ...(nodePorts.http !== undefined && { http: nodePorts.http }), ...(nodePorts.https !== undefined && { https: nodePorts.https }) },
    }),
  };
}
