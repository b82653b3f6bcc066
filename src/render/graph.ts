import { GATEWAY } from '../mesh/names.js';
import type { LiveMesh } from '../mesh/live.js';
import type { Spec } from '../spec/model.js';

/**
 * The picture of who calls whom: the gateway, the services with their pods, and one edge per
 * route target and per upstream the spec declares, no more. With live figures, each edge carries
 * the req/s and success rate its caller sees, and each pod whether its callers find it healthy.
 */
export interface MeshGraph {
  readonly name: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** The window the live figures are from, in seconds; absent without live figures. */
  readonly windowSeconds?: number;
}

export interface GraphNode {
  /** `gateway`, or a service's name. */
  readonly id: string;
  readonly kind: 'gateway' | 'service';
  readonly pods: readonly GraphPod[];
}

export interface GraphPod {
  readonly name: string;
  readonly healthy: boolean;
  /** Why not healthy: Envoy's failure flags, or the pod not being ready. */
  readonly failures: readonly string[];
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'route' | 'upstream';
  /** What the spec says of it: the route's host and prefix (and weight in a split), or the upstream's port. */
  readonly label: string;
  readonly traffic?: EdgeTraffic;
}

/** What the caller's Envoy saw of its calls to the service over the window (the service's cluster: every route to it together). */
export interface EdgeTraffic {
  readonly rps: number;
  readonly successRate: number | null;
}

export function meshGraph(spec: Spec, live?: LiveMesh): MeshGraph {
  const podsOf = (service: string) =>
    (live?.pods ?? []).filter((p) => p.service === service).map((p) => ({ name: p.pod, healthy: p.healthy, failures: p.failures }));
  const trafficOf = (from: string, to: string): { traffic?: EdgeTraffic } => {
    const t = live?.traffic.find((x) => x.from === from && x.to === to);
    return t ? { traffic: { rps: t.rps, successRate: t.successRate } } : {};
  };
  const nodes: GraphNode[] = [
    ...(spec.gateway ? [{ id: GATEWAY, kind: 'gateway' as const, pods: podsOf(GATEWAY) }] : []),
    ...spec.services.map((s) => ({ id: s.name, kind: 'service' as const, pods: podsOf(s.name) })),
  ];
  const routeEdges = (spec.gateway?.routes ?? []).flatMap((route) =>
    route.backends.map((b) => ({
      from: GATEWAY,
      to: b.service,
      kind: 'route' as const,
      label: `${route.host === '*' ? '' : route.host}${route.prefix}${route.backends.length > 1 ? ` (${b.weight})` : ''}`,
      ...trafficOf(GATEWAY, b.service),
    })),
  );
  const upstreamEdges = spec.services.flatMap((s) =>
    s.upstreams.map((u) => ({ from: s.name, to: u.service, kind: 'upstream' as const, label: `:${u.port}`, ...trafficOf(s.name, u.service) })),
  );
  return { name: spec.name, nodes, edges: [...routeEdges, ...upstreamEdges], ...(live ? { windowSeconds: live.windowSeconds } : {}) };
}

function trafficText(t: EdgeTraffic | undefined): string {
  if (!t) return '';
  return ` · ${t.rps.toFixed(1)} rps · ${t.successRate === null ? '-' : `${(t.successRate * 100).toFixed(1)}%`}`;
}

/** A DOT string: every character that could end it or start an escape is escaped. */
function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** Graphviz DOT: a cluster per service holding its pods (unhealthy ones red), an edge per declared call. */
export function renderDot(graph: MeshGraph): string {
  const lines = [
    `digraph ${dotString(graph.name)} {`,
    '  rankdir=LR;',
    '  fontname="Helvetica"; node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=10];',
    `  label=${dotString(`mesh ${graph.name}${graph.windowSeconds === undefined ? '' : ` · last ${Math.round(graph.windowSeconds)} s`}`)}; labelloc=t;`,
  ];
  for (const node of graph.nodes) {
    lines.push(`  subgraph ${dotString(`cluster_${node.id}`)} {`, `    label=""; style="rounded"; color="#999999";`);
    lines.push(
      `    ${dotString(node.id)} [label=${dotString(node.id)}, shape=${node.kind === 'gateway' ? 'hexagon' : 'box'}, style="filled,bold", fillcolor="${node.kind === 'gateway' ? '#dbe9ff' : '#eef6ee'}"];`,
    );
    for (const pod of node.pods) {
      const label = pod.healthy ? pod.name : `${pod.name}\nunhealthy: ${pod.failures.join(', ') || 'pending'}`;
      const style = pod.healthy ? 'color="#666666"' : 'color="#cc0000", fontcolor="#cc0000", style="filled", fillcolor="#ffe5e5"';
      lines.push(`    ${dotString(`pod:${pod.name}`)} [label=${dotString(label)}, shape=ellipse, fontsize=9, ${style}];`);
    }
    lines.push('  }');
  }
  for (const edge of graph.edges) {
    const failing = edge.traffic?.successRate !== undefined && edge.traffic.successRate !== null && edge.traffic.successRate < 0.95;
    const attrs = [
      `label=${dotString(`${edge.label}${trafficText(edge.traffic)}`)}`,
      edge.kind === 'upstream' ? 'style=dashed' : 'style=solid',
      failing ? 'color="#cc0000", fontcolor="#cc0000"' : 'color="#333333"',
    ];
    lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A Mermaid flowchart of the same graph (GitHub renders it in Markdown). */
export function renderMermaid(graph: MeshGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  // Mermaid labels are quoted; a quote inside is its HTML entity.
  const text = (s: string) => `"${s.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart LR'];
  graph.nodes.forEach((node, i) => {
    lines.push(`  subgraph c${i} [${text(node.id)}]`);
    lines.push(node.kind === 'gateway' ? `    ${ids.get(node.id)}{{${text(node.id)}}}` : `    ${ids.get(node.id)}[${text(node.id)}]`);
    node.pods.forEach((pod, j) => {
      lines.push(`    p${i}_${j}([${text(pod.healthy ? pod.name : `${pod.name} unhealthy: ${pod.failures.join(', ') || 'pending'}`)}])`);
      if (!pod.healthy) lines.push(`    style p${i}_${j} fill:#ffe5e5,stroke:#cc0000`);
    });
    lines.push('  end');
  });
  for (const edge of graph.edges) {
    lines.push(`  ${ids.get(edge.from)} ${edge.kind === 'upstream' ? '-.->' : '-->'}|${text(`${edge.label}${trafficText(edge.traffic)}`)}| ${ids.get(edge.to)}`);
  }
  return `${lines.join('\n')}\n`;
}
