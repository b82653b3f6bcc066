import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readTextFiles, PACKAGE_ROOT } from '../../src/engine/files.js';
import { renderKubernetes } from '../../src/render/kubernetes.js';
import { compileTemplates } from '../../src/render/templates.js';
import { parseSpec } from '../../src/spec/parse.js';
import { fakeHost } from '../support/fake-host.js';
import { readTemplateSources } from '../../src/pipeline.js';

const examples = readdirSync(path.join(PACKAGE_ROOT, 'examples'));
const images = { nginx: 'localhost/podvoy/nginx:1.22.1-brotli', envoy: 'localhost/podvoy/envoy:1.40.0' };

describe.each(examples)('example %s on Kubernetes', async (example) => {
  const file = path.join(PACKAGE_ROOT, 'examples', example, 'podvoy.yaml');
  const [text] = Object.values(await readTextFiles(path.dirname(file), ['podvoy.yaml']));
  const sources = await readTemplateSources();
  const spec = parseSpec(text!, `examples/${example}/podvoy.yaml`, fakeHost(`/srv/podvoy/examples/${example}`));
  // Fixed site images: the golden files do not depend on the sites' content.
  const sites = Object.fromEntries(spec.services.map((s) => [s.name, `localhost/podvoy/${spec.name}-${s.name}:0123456789ab`]));
  const renderAll = () => renderKubernetes({ spec, images: { ...images, sites }, templates: compileTemplates(sources), sources });
  const rendered = renderAll();

  it('renders the manifests as pinned', async () => {
    await expect(rendered.yaml).toMatchFileSnapshot(path.join(PACKAGE_ROOT, 'test/golden', example, 'kubernetes.yaml'));
  });

  it('renders YAML that parses back to the objects', () => {
    const docs = parseAllDocuments(rendered.yaml);
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
    expect(docs.map((d) => d.toJS())).toEqual(rendered.objects);
  });

  it('renders the same text every time', () => {
    expect(renderAll()).toEqual(rendered);
  });

  it('holds no host path and no key', () => {
    expect(rendered.yaml).not.toMatch(/hostPath|\/srv\/podvoy|\/var\/lib\/podvoy|\/nonexistent|PRIVATE KEY/);
  });

  it('names the Secrets of its mesh identities, and renders none of them', () => {
    expect(rendered.objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(rendered.meshTlsSecrets.map((s) => s.name)).toEqual(spec.mtls ? [...(spec.gateway ? ['gateway-mesh-tls'] : []), ...spec.services.map((s) => `${s.name}-mesh-tls`)] : []);
  });
});

describe('the golden files', () => {
  const files = readdirSync(path.join(PACKAGE_ROOT, 'test/golden'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));

  it.each(files.map((f) => [path.relative(PACKAGE_ROOT, f), f]))('%s holds no key or certificate', (_, file) => {
    // Neither a PEM block nor a Secret's base64 data: certificates are made by play and kube apply, never rendered.
    expect(readFileSync(file, 'utf8')).not.toMatch(/-----BEGIN|PRIVATE KEY|LS0tLS1CRUdJTi|^kind: Secret$/m);
  });
});
