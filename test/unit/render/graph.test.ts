import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/engine/files.js';
import type { LiveMesh } from '../../../src/mesh/live.js';
import { meshGraph, renderDot, renderMermaid } from '../../../src/render/graph.js';
import { renderSvg } from '../../../src/render/graph-svg.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const exampleSpec = async () =>
  parseSpec(await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8'), 'examples/mesh/podvoy.yaml', fakeHost('/srv/mesh'));

const SPLIT = `name: s
gateway:
  http: 8081
  routes:
  - {host: shop.example.com, prefix: /cart/, split: {cart: 90, cart-next: 10}}
  - {service: web}
services:
  web: {static: ./site, upstreams: {cart: 9001, search: 9002}}
  cart: {static: ./site}
  cart-next: {static: ./site}
  search: {static: ./site, upstreams: {cart: 9001}}
`;

describe('the mesh graph', () => {
  it.each<[string, () => Promise<ReturnType<typeof parseSpec>>, string[]]>([
    ['the mesh example', exampleSpec, ['gateway -> api route /api/', 'gateway -> blog route /', 'blog -> api upstream :9001']],
    [
      'a split and several upstreams',
      async () => parseSpec(SPLIT, 'podvoy.yaml', fakeHost('/srv/s')),
      [
        'gateway -> cart route shop.example.com/cart/ (90)',
        'gateway -> cart-next route shop.example.com/cart/ (10)',
        'gateway -> web route /',
        'web -> cart upstream :9001',
        'web -> search upstream :9002',
        'search -> cart upstream :9001',
      ],
    ],
  ])('has exactly the edges %s declares, in DOT, Mermaid and the laid-out SVG', async (_name, spec, expected) => {
    const graph = meshGraph(await spec());
    expect(graph.edges.map((e) => `${e.from} -> ${e.to} ${e.kind} ${e.label}`)).toEqual(expected);
    const dot = renderDot(graph);
    expect(dot.split('\n').filter((l) => l.includes(' -> '))).toHaveLength(expected.length);
    expect(renderMermaid(graph).split('\n').filter((l) => /(-->|-\.->)\|/.test(l))).toHaveLength(expected.length);
    const svg = await renderSvg(dot);
    expect(svg.match(/<g id="edge[0-9]+" class="edge">/g)).toHaveLength(expected.length);
    expect(svg.match(/<g id="node[0-9]+" class="node">/g)).toHaveLength(graph.nodes.length);
  });

  it('labels each edge with the traffic its caller sees, and marks unhealthy pods', async () => {
    const live: LiveMesh = {
      windowSeconds: 10,
      pods: [
        { service: 'gateway', pod: 'mesh-gateway-1', healthy: true, failures: [] },
        { service: 'blog', pod: 'mesh-blog-1', healthy: true, failures: [] },
        { service: 'api', pod: 'mesh-api-1', healthy: false, failures: ['failed_active_health_check'] },
      ],
      traffic: [
        { from: 'gateway', to: 'api', rps: 200, successRate: 0.9 },
        { from: 'gateway', to: 'blog', rps: 12.5, successRate: 1 },
      ],
    };
    const graph = meshGraph(await exampleSpec(), live);
    const dot = renderDot(graph);
    expect(dot).toContain('"gateway" -> "api" [label="/api/ · 200.0 rps · 90.0%", style=solid, color="#cc0000", fontcolor="#cc0000"];');
    expect(dot).toContain('"gateway" -> "blog" [label="/ · 12.5 rps · 100.0%", style=solid, color="#333333"];');
    // No traffic figures from the blog's sidecar: the edge keeps what the spec says.
    expect(dot).toContain('"blog" -> "api" [label=":9001", style=dashed, color="#333333"];');
    expect(dot).toContain('"pod:mesh-api-1" [label="mesh-api-1\\nunhealthy: failed_active_health_check", shape=ellipse, fontsize=9, color="#cc0000"');
    expect(renderMermaid(graph)).toContain('p2_0(["mesh-api-1 unhealthy: failed_active_health_check"])\n    style p2_0 fill:#ffe5e5,stroke:#cc0000');
    const svg = await renderSvg(dot);
    expect(svg).toContain('200.0 rps · 90.0%');
    expect(svg.match(/<g id="node[0-9]+" class="node">/g)).toHaveLength(6);
  });

  it('escapes what could end a DOT string', () => {
    const dot = renderDot({ name: 'a"b\\c', nodes: [], edges: [] });
    expect(dot.split('\n')[0]).toBe('digraph "a\\"b\\\\c" {');
  });
});
