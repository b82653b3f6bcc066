// Bundles the compiled CLI (dist/cli) into dist/bin: Node.js then loads a handful of files
// instead of hundreds (execa alone is dozens), which is most of a quick command's start-up.
// Verbs stay lazily loaded: each is a chunk of its own. dist/bin sits two levels below the
// package root, like every other compiled module, so paths relative to it still hold.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a content hash: without this, every build would leave the last one's behind.
rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: { podvoy: 'dist/cli/index.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Some dependencies are CommonJS and `require` Node's own modules.
  banner: { js: "import { createRequire as podvoyCreateRequire } from 'node:module'; const require = podvoyCreateRequire(import.meta.url);" },
});
