import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/errors.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';

const DIR = '/srv/podvoy/k';
const spec = (kubernetes: string) => `name: k\nservices:\n  web: {static: ./site}\nkubernetes: ${kubernetes}\n`;
const parse = (kubernetes: string) => parseSpec(spec(kubernetes), 'k.yaml', fakeHost(DIR));

describe('the kubernetes section of a spec', () => {
  it.each<[string, object]>([
    ['{}', {}],
    ['{registry: "registry.example.com:5000/team", expose: LoadBalancer}', { registry: 'registry.example.com:5000/team', expose: 'LoadBalancer' }],
    ['{nodePorts: {http: 30081, https: 30443}}', { nodePorts: { http: 30081, https: 30443 } }],
  ])('reads %s', (text, options) => {
    expect(parse(text).kubernetes).toEqual(options);
  });

  it('is absent unless given', () => {
    expect(parseSpec('name: k\nservices: {web: {static: ./site}}\n', 'k.yaml', fakeHost(DIR)).kubernetes).toBeUndefined();
  });

  it('reports every problem with its position', () => {
    let error: unknown;
    try {
      parse('{registry: "Registry/", expose: ClusterIP, nodePorts: {http: 8080, https: 30443, tcp: 1}, namespace: x}');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).problems.map((p) => `${p.column} ${p.path}: ${p.message}`)).toEqual([
      '24 kubernetes.registry: "Registry/" is not a registry and repository prefix. Write it like registry.example.com/team (no trailing slash, no tag).',
      '45 kubernetes.expose: "ClusterIP" is not a way to expose the gateway. Write NodePort or LoadBalancer.',
      '74 kubernetes.nodePorts.http: 8080 is out of range. Use a node port from 30000 to 32767.',
      '94 kubernetes.nodePorts.tcp: Unknown key "tcp". Did you mean "http"?',
      '103 kubernetes.namespace: Unknown key "namespace". Remove it; the keys allowed here are registry, expose, nodePorts.',
    ]);
  });
});
