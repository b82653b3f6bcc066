import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTextFiles, PACKAGE_ROOT } from '../../src/engine/files.js';
import type { RenderedPod } from '../../src/mesh/plan.js';
import { planDeployment } from '../../src/render/deployment.js';
import { precompiledModule, templateKey, type PrecompiledTemplates } from '../../src/render/templates.js';
import { renderScrapeConfig } from '../../src/render/prometheus.js';
import { parseSpec } from '../../src/spec/parse.js';
import { fakeHost } from '../support/fake-host.js';
import { readTemplateSources } from '../../src/pipeline.js';

const examples = readdirSync(path.join(PACKAGE_ROOT, 'examples'));
/** Fixed inputs, so the golden files do not depend on where the checkout is. */
const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'localhost/podvoy/nginx:1.22.1-brotli', envoy: 'localhost/podvoy/envoy:1.40.0' };

describe.each(examples)('example %s', async (example) => {
  const file = path.join(PACKAGE_ROOT, 'examples', example, 'podvoy.yaml');
  const [text] = Object.values(await readTextFiles(path.dirname(file), ['podvoy.yaml']));
  const sources = await readTemplateSources();
  const spec = parseSpec(text!, `examples/${example}/podvoy.yaml`, fakeHost(`/srv/podvoy/examples/${example}`));
  // The pipeline play and render use; one pod per service (the examples have one replica each).
  const renderAll = (precompiled?: PrecompiledTemplates) => {
    const deployment = planDeployment(spec, { images, roots, templates: sources, ...(precompiled ? { precompiled } : {}) });
    const pods: [string, RenderedPod][] = deployment.pods.map(({ plan, rendered }) => [plan.service.name, rendered]);
    if (deployment.gateway) pods.push(['gateway', deployment.gateway.rendered]);
    const scraped = [...deployment.pods.map(({ plan }) => ({ pod: plan.pod, service: plan.service.name })), ...(deployment.gateway ? [{ pod: deployment.gateway.plan.pod, service: 'gateway' }] : [])];
    return { pods, mesh: deployment.meshFiles(deployment.registry), prometheus: renderScrapeConfig(spec, scraped) };
  };
  const rendered = renderAll();
  const golden = (...parts: string[]) => path.join(PACKAGE_ROOT, 'test/golden', example, ...parts);

  it.each(rendered.pods)('renders the pod of %s as pinned', async (name, pod) => {
    await expect(pod.podYaml).toMatchFileSnapshot(golden(name, 'pod.yaml'));
    await expect(pod.envoyYaml).toMatchFileSnapshot(golden(name, 'envoy.yaml'));
    if (pod.nginxConf !== undefined) await expect(pod.nginxConf).toMatchFileSnapshot(golden(name, 'nginx.conf'));
  });

  it('renders the mesh directory as pinned', async () => {
    for (const file of rendered.mesh) {
      await expect(file.text).toMatchFileSnapshot(golden('xds', path.relative(`${roots.stateDir}/${spec.name}/xds`, file.path)));
    }
  });

  it('renders the Prometheus scrape configuration as pinned', async () => {
    await expect(rendered.prometheus).toMatchFileSnapshot(golden('prometheus.yml'));
    expect(parse(rendered.prometheus)).toMatchObject({ scrape_configs: [{ job_name: `${spec.name}-mesh`, metrics_path: '/stats/prometheus' }] });
  });

  it('renders YAML that parses back', () => {
    for (const [, pod] of rendered.pods) {
      expect(() => parse(pod.podYaml)).not.toThrow();
      expect(() => parse(pod.envoyYaml)).not.toThrow();
    }
    for (const file of rendered.mesh) expect(parse(file.text)).toMatchObject({ version_info: file.version });
  });

  it('renders the same text with the templates precompiled as the build does', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'podvoy-precompiled-'));
    try {
      const module = path.join(dir, 'precompiled-templates.js');
      await writeFile(module, precompiledModule(sources));
      const { PRECOMPILED } = (await import(pathToFileURL(module).href)) as { PRECOMPILED: PrecompiledTemplates };
      // Every template is found precompiled: what renders below is the precompiled code.
      expect(Object.values(sources).every((source) => templateKey(source) in PRECOMPILED)).toBe(true);
      expect(renderAll(PRECOMPILED)).toEqual(rendered);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders the same text every time', () => {
    expect(renderAll()).toEqual(rendered);
  });
});
