import { graph } from '../../index.js';

export async function run(spec: string, opts: { format: 'svg' | 'dot' | 'mermaid'; out?: string; window: number; live: boolean }): Promise<void> {
  const text = await graph(spec, { format: opts.format, windowMs: opts.live ? opts.window : 0, ...(opts.out ? { outFile: opts.out } : {}) });
  process.stdout.write(opts.out ? `wrote ${opts.out}\n` : text);
}
