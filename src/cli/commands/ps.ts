import { ps } from '../../index.js';

export async function run(opts: { json?: boolean }): Promise<void> {
  const pods = await ps();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(pods, null, 2)}\n`);
    return;
  }
  if (!pods.length) {
    process.stdout.write('No podvoy pods. Start one with `podvoy play examples/blog/podvoy.yaml`.\n');
    return;
  }
  const rows = pods.map((p) => [p.name, p.status, p.containers.map((c) => c.name.slice(p.name.length + 1)).join(','), p.url ?? '-']);
  const table = [['POD', 'STATUS', 'CONTAINERS', 'URL'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
