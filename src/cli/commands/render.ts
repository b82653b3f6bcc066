import { render } from '../../index.js';

export async function run(spec: string, opts: { out?: string }): Promise<void> {
  const files = await render(spec, opts.out ? { outDir: opts.out } : {});
  if (opts.out) {
    for (const f of files) process.stdout.write(`wrote ${opts.out}/${f.path}\n`);
    return;
  }
  for (const f of files) process.stdout.write(`# ---- ${f.path}\n${f.content}\n`);
}
