import { describe, expect, it } from 'vitest';
import type { DeploymentPlan } from '../../../../src/mesh/plan.js';
import type { DeployedPod } from '../../../../src/engine/podman/pods.js';
import { describeRollout } from '../../../../src/engine/rollout/describe.js';
import { isNoop, planRollout } from '../../../../src/engine/rollout/plan.js';
import { planDeployment } from '../../../../src/render/deployment.js';
import { PARTIAL_NAMES, TEMPLATE_NAMES, type TemplateSources } from '../../../../src/render/templates.js';
import { parseSpec } from '../../../../src/spec/parse.js';
import { fakeHost } from '../../../support/fake-host.js';

const roots = { stateDir: '/var/lib/podvoy', runDir: '/run/podvoy' };
const images = { nginx: 'localhost/podvoy/nginx:1', envoy: 'localhost/podvoy/envoy:1' };
/** Templates whose text is only their name: enough for plans, which hash them. */
const templates = Object.fromEntries([...TEMPLATE_NAMES, ...PARTIAL_NAMES].map((n) => [n, `${n}\n`])) as TemplateSources;

const MESH = `name: m
gateway:
  http: 8081
  routes:
  - prefix: /
    service: blog
services:
  blog:
    static: ./blog
    upstreams: {api: 9001}
  api:
    static: ./api
`;

function deploymentOf(text: string): DeploymentPlan {
  return planDeployment(parseSpec(text, 'podvoy.yaml', fakeHost('/srv/m')), { images, roots, templates });
}

/** The pods a deployment plans, as podman would list them once they run. */
function running(deployment: DeploymentPlan, status = 'Running'): DeployedPod[] {
  const pods = [...deployment.pods, ...(deployment.gateway ? [deployment.gateway] : [])];
  return pods.map(({ plan }) => ({
    name: plan.pod,
    id: plan.pod,
    status,
    spec: 'm',
    service: 'service' in plan ? plan.service.name : 'gateway',
    revision: plan.revision,
    ...(plan.url ? { url: plan.url } : {}),
    containers: [],
  }));
}

/** The mesh files as they are once `deployment` has been played. */
function meshOf(deployment: DeploymentPlan): Map<string, string> {
  return new Map(deployment.meshFiles(deployment.registry).map((f) => [f.path, f.text]));
}

const actions = (plan: ReturnType<typeof planRollout>) => ({
  starts: plan.starts.map((s) => [s.service, s.action]),
  gateway: plan.gateway?.action,
  retire: plan.retire.map((p) => p.service),
  removed: plan.removed.map((p) => p.service),
  mesh: plan.meshChanges.map((c) => c.file.path.replace('/var/lib/podvoy/m/', '')),
});

describe('planRollout', () => {
  const before = deploymentOf(MESH);

  it.each([
    {
      what: 'a first play creates every pod and writes every mesh file',
      spec: MESH,
      existing: [] as DeployedPod[],
      mesh: new Map<string, string>(),
      expected: {
        starts: [['blog', 'create'], ['api', 'create']],
        gateway: 'create',
        retire: [],
        removed: [],
        mesh: ['xds/gateway/cds.yaml', 'xds/gateway/lds.yaml', 'xds/gateway/rds.yaml', 'xds/blog/cds.yaml'],
      },
    },
    {
      what: 'the same spec again changes nothing',
      spec: MESH,
      existing: running(before),
      mesh: meshOf(before),
      expected: { starts: [], gateway: undefined, retire: [], removed: [], mesh: [] },
    },
    {
      what: 'a route change only rewrites the gateway routes',
      spec: MESH.replace('  - prefix: /\n', '  - prefix: /api/\n    service: api\n  - prefix: /\n'),
      existing: running(before),
      mesh: meshOf(before),
      expected: { starts: [], gateway: undefined, retire: [], removed: [], mesh: ['xds/gateway/rds.yaml'] },
    },
    {
      what: 'a changed service is replaced, and the endpoints follow',
      spec: MESH.replace('    static: ./api\n', '    static: ./api\n    port: 8085\n'),
      existing: running(before),
      mesh: meshOf(before),
      expected: { starts: [['api', 'replace']], gateway: undefined, retire: ['api'], removed: [], mesh: ['xds/gateway/cds.yaml', 'xds/blog/cds.yaml'] },
    },
    {
      what: 'stopped pods of the same revision are restarted, not replaced',
      spec: MESH,
      existing: running(before, 'Exited'),
      mesh: meshOf(before),
      expected: { starts: [['blog', 'restart'], ['api', 'restart']], gateway: 'restart', retire: [], removed: [], mesh: [] },
    },
  ])('$what', ({ spec, existing, mesh, expected }) => {
    expect(actions(planRollout(deploymentOf(spec), existing, mesh))).toEqual(expected);
  });

  it('retires the pods of a service the spec no longer has', () => {
    const after = deploymentOf(`name: m
services:
  blog:
    static: ./blog
`);
    const plan = planRollout(after, running(before), meshOf(before));
    expect(actions(plan)).toMatchObject({ retire: ['blog', 'api', 'gateway'], removed: ['api', 'gateway'] });
    expect(plan.starts.map((s) => s.action)).toEqual(['replace']);
  });

  it('stops the old pod that holds a published port just before its replacement starts', () => {
    const spec = `name: m
services:
  web:
    static: ./site
    sidecar: {publish: 8080}
`;
    const old = deploymentOf(spec);
    const plan = planRollout(deploymentOf(spec.replace('./site\n', './site\n    port: 8085\n')), running(old), new Map());
    expect(plan.starts[0]!.portHolders.map((p) => p.name)).toEqual([old.pods[0]!.plan.pod]);
    expect(plan.starts[0]!.publishes).toEqual([{ hostIP: '127.0.0.1', hostPort: 8080, where: 'services.web.sidecar.publish' }]);
  });

  it('is a no-op exactly when nothing starts, retires or changes', () => {
    expect(isNoop(planRollout(before, running(before), meshOf(before)))).toBe(true);
    expect(isNoop(planRollout(before, [], meshOf(before)))).toBe(false);
  });
});

describe('describeRollout', () => {
  it('shows a weight change as a diff of one mesh file, with no Envoy starting or stopping', () => {
    const before = deploymentOf(MESH);
    const after = deploymentOf(MESH.replace('    service: blog\n', '    split: {blog: 90, api: 10}\n'));
    const shown = describeRollout(planRollout(after, running(before), meshOf(before)), roots);
    expect(shown.changes).toBe(true);
    expect(shown.envoys).toEqual({ starting: [], stopping: [] });
    expect(shown.pods.map((p) => p.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(shown.meshFiles.map((f) => [f.path, f.envoy])).toEqual([['xds/gateway/rds.yaml', 'gateway']]);
    expect(shown.meshFiles[0]!.patch).toContain('--- a/xds/gateway/rds.yaml\n+++ b/xds/gateway/rds.yaml\n');
    expect(shown.meshFiles[0]!.patch).toMatch(/^\+ +"weight": 10$/m);
  });

  it('names what a replacement replaces and which Envoys stop', () => {
    const before = deploymentOf(MESH);
    const after = deploymentOf(MESH.replace('    static: ./api\n', '    static: ./api\n    port: 8085\n'));
    const old = before.pods.find((p) => p.plan.service.name === 'api')!.plan.pod;
    const shown = describeRollout(planRollout(after, running(before), meshOf(before)), roots);
    expect(shown.pods.filter((p) => p.action !== 'unchanged')).toEqual([
      { service: 'api', pod: after.pods.find((p) => p.plan.service.name === 'api')!.plan.pod, action: 'replace', replaces: [old] },
      { service: 'api', pod: old, action: 'retire' },
    ]);
    expect(shown.envoys.stopping).toEqual([old]);
  });
});
