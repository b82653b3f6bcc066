import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTextFiles, PACKAGE_ROOT } from '../../src/engine/files.js';
import { planPod } from '../../src/mesh/plan.js';
import { renderPod } from '../../src/render/pod.js';
import { TEMPLATE_NAMES, compileTemplates } from '../../src/render/templates.js';
import { parseSpec } from '../../src/spec/parse.js';
import { fakeHost } from '../support/fake-host.js';

const examples = readdirSync(path.join(PACKAGE_ROOT, 'examples'));
/** Fixed inputs, so the golden files do not depend on where the checkout is. */
const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'localhost/podvoy/nginx:1.22.1', envoy: 'localhost/podvoy/envoy:1.40.0' };

describe.each(examples)('example %s', async (example) => {
  const file = path.join(PACKAGE_ROOT, 'examples', example, 'podvoy.yaml');
  const [text] = Object.values(await readTextFiles(path.dirname(file), ['podvoy.yaml']));
  const sources = await readTextFiles(path.join(PACKAGE_ROOT, 'templates'), TEMPLATE_NAMES, '.hbs');
  const spec = parseSpec(text!, `examples/${example}/podvoy.yaml`, fakeHost(`/srv/podvoy/examples/${example}`));
  const planned = spec.services.map((service) => {
    const plan = planPod(spec, service, images, roots, sources);
    return { plan, rendered: renderPod(compileTemplates(sources), plan) };
  });

  it.each(planned.map((p) => [p.plan.service.name, p] as const))('renders service %s as pinned', async (name, { rendered }) => {
    const dir = path.join(PACKAGE_ROOT, 'test/golden', example, name);
    await expect(rendered.podYaml).toMatchFileSnapshot(path.join(dir, 'pod.yaml'));
    await expect(rendered.envoyYaml).toMatchFileSnapshot(path.join(dir, 'envoy.yaml'));
    if (rendered.nginxConf !== undefined) await expect(rendered.nginxConf).toMatchFileSnapshot(path.join(dir, 'nginx.conf'));
  });

  it('renders YAML that parses back', () => {
    for (const { rendered } of planned) {
      expect(() => parse(rendered.podYaml)).not.toThrow();
      expect(() => parse(rendered.envoyYaml)).not.toThrow();
    }
  });

  it('renders the same text every time', () => {
    const again = spec.services.map((service) => renderPod(compileTemplates(sources), planPod(spec, service, images, roots, sources)));
    expect(again).toEqual(planned.map((p) => p.rendered));
  });
});
