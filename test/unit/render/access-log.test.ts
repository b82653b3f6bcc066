import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../../src/engine/files.js';
import { readTemplateSources } from '../../../src/pipeline.js';
import { ENVOY_JSON_LOG_FORMAT } from '../../../src/render/access-log.js';
import { planDeployment } from '../../../src/render/deployment.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { SpecError } from '../../../src/errors.js';
import { fakeHost } from '../../support/fake-host.js';

const images = { nginx: 'localhost/podvoy/nginx:1.22.1', envoy: 'localhost/podvoy/envoy:1.40.0' };
const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };

async function meshWith(accessLog: string) {
  const text = (await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8')).replace(/^name: mesh$/m, `name: mesh\naccessLog: ${accessLog}`);
  const spec = parseSpec(text, 'podvoy.yaml', fakeHost('/srv/mesh'));
  return planDeployment(spec, { images, roots, templates: await readTemplateSources() });
}

/** Every access_log of an Envoy config, wherever it is. */
function accessLogs(value: unknown): { typed_config: { log_format?: object } }[] {
  if (Array.isArray(value)) return value.flatMap(accessLogs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => (key === 'access_log' ? (v as never[]) : accessLogs(v)));
}

describe('accessLog: json', () => {
  it('gives every access log of every Envoy the same JSON fields, and nginx the same line', async () => {
    const deployment = await meshWith('json');
    const blog = deployment.pods.find((p) => p.plan.service.name === 'blog')!.rendered;
    // The inbound listener and the upstream listener to the api.
    const sidecarLogs = accessLogs(parse(blog.envoyYaml));
    expect(sidecarLogs).toHaveLength(2);
    for (const log of sidecarLogs) expect(log.typed_config.log_format).toEqual({ json_format: ENVOY_JSON_LOG_FORMAT });
    const listeners = parse(deployment.meshFiles(deployment.registry).find((f) => f.path.endsWith('gateway/lds.yaml'))!.text);
    const gatewayLogs = accessLogs(listeners);
    expect(gatewayLogs).toHaveLength(2);
    for (const log of gatewayLogs) expect(log.typed_config.log_format).toEqual({ json_format: ENVOY_JSON_LOG_FORMAT });
    expect(listeners.resources.map((l: { filter_chains: { filters: { typed_config: object }[] }[] }) => l.filter_chains[0]!.filters[0]!.typed_config)).toEqual([
      expect.objectContaining({ always_set_request_id_in_response: true }),
      expect.objectContaining({ always_set_request_id_in_response: true }),
    ]);
    expect(blog.nginxConf).toContain('access_log /dev/stdout podvoy_json buffer=32k flush=1s;');
    expect(blog.nginxConf).toContain('"request_id":"$http_x_request_id"');
  });

  it('leaves the text formats without it', async () => {
    const deployment = await meshWith('text');
    const blog = deployment.pods.find((p) => p.plan.service.name === 'blog')!.rendered;
    expect(blog.envoyYaml).not.toContain('json_format');
    expect(blog.nginxConf).toContain('access_log /dev/stdout combined buffer=32k flush=1s;');
  });

  it('replaces the pods when it changes (their configs change), not the gateway (its logs are in the mesh files)', async () => {
    const [json, text] = [await meshWith('json'), await meshWith('text')];
    for (const service of ['blog', 'api']) {
      const revision = (d: typeof json) => d.pods.find((p) => p.plan.service.name === service)!.plan.revision;
      expect(revision(json)).not.toBe(revision(text));
    }
    expect(json.gateway!.plan.revision).toBe(text.gateway!.plan.revision);
  });

  it('refuses another format', async () => {
    const error = await meshWith('xml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toBe('The spec has a problem:\n  podvoy.yaml:6:12: accessLog: "xml" is not an access log format. Use text (the default) or json.');
  });
});
