/**
 * SVG of a DOT graph, laid out by Graphviz itself (compiled to WebAssembly: @viz-js/viz), so the
 * picture needs no Graphviz on the machine. Pure: text in, text out.
 */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg', engine: 'dot' });
}
