// Precompiles templates/ and envoy/partials/ into dist/render/precompiled-templates.js, with the
// compiled library's own options and keys (so it runs after tsc): a short command then renders
// without compiling Handlebars templates, most of its rendering time.
import { writeFileSync } from 'node:fs';

const { PRECOMPILED_TEMPLATES, readTemplateSources } = await import('../dist/pipeline.js');
const { precompiledModule } = await import('../dist/render/templates.js');
writeFileSync(PRECOMPILED_TEMPLATES, precompiledModule(await readTemplateSources()));
