// Bundles the compiled CLI (dist/cli) into dist/bin: Node.js then loads a handful of files
// instead of hundreds (execa alone is dozens), which is most of a quick command's start-up.
// Verbs stay lazily loaded: each is a chunk of its own. dist/bin sits two levels below the
// package root, like every other compiled module, so paths relative to it still hold.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const result = await build({
  // early-listings starts podman before the CLI loads; as a second entry it shares its chunks
  // (and so the listings it started) with the CLI.
  entryPoints: { podvoy: 'dist/cli/index.js', 'early-listings': 'dist/cli/early-listings.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Some dependencies are CommonJS and `require` Node's own modules.
  banner: { js: "import { createRequire as podvoyCreateRequire } from 'node:module'; const require = podvoyCreateRequire(import.meta.url);" },
  metafile: true,
});

// Chunk names carry a content hash: the last build's chunks go, once this build's are in place
// (a CLI started meanwhile still finds every file it loads).
const written = new Set(Object.keys(result.metafile.outputs).map((file) => path.basename(file)));
for (const file of readdirSync('dist/bin')) if (!written.has(file)) rmSync(path.join('dist/bin', file));
