import { createHash } from 'node:crypto';
import { planGateway, planService, type DeploymentPlan, type PodImages } from '../mesh/plan.js';
import type { StateRoots } from '../mesh/layout.js';
import { planMeshTls } from '../mesh/identity.js';
import { GATEWAY } from '../mesh/names.js';
import { withPods, type MeshFile, type Registry } from '../mesh/registry.js';
import type { Spec } from '../spec/model.js';
import { SDS_RENDERER } from './mesh-tls.js';
import { renderGateway, renderPod } from './pod.js';
import { PARTIAL_NAMES, TEMPLATE_NAMES, compileTemplates, type PrecompiledTemplates, type TemplateSources, type Templates } from './templates.js';
import { renderGatewaySdsCertificate } from './gateway-tls.js';
import { renderGatewayListenersFile, renderMeshFiles } from './xds.js';

/** What the engine resolves before planning: nothing else of the host shapes a deployment. */
export interface DeploymentInputs {
  readonly images: PodImages;
  readonly roots: StateRoots;
  readonly templates: TemplateSources;
  /** The same templates compiled at build time, where the package has them. */
  readonly precompiled?: PrecompiledTemplates;
}

/** The templates each kind of pod is rendered from: a change to one replaces only those pods. */
const SERVICE_TEMPLATES: readonly SourceName[] = ['pod.yaml', 'nginx.conf', 'sidecar-envoy.yaml', ...PARTIAL_NAMES];
const GATEWAY_TEMPLATES: readonly SourceName[] = ['gateway-pod.yaml', 'gateway-envoy.yaml', ...PARTIAL_NAMES];
type SourceName = keyof TemplateSources;

function digestOf(sources: TemplateSources, names: readonly SourceName[]): string {
  const hash = createHash('sha256');
  for (const name of names) hash.update(name).update('\0').update(sources[name]).update('\0');
  return hash.digest('hex');
}

/** Compiling is the slow part of rendering: the same sources compile once per process. */
const compiled = new Map<string, Templates>();
function templatesOf(sources: TemplateSources, precompiled?: PrecompiledTemplates): Templates {
  const key = `${digestOf(sources, [...TEMPLATE_NAMES, ...PARTIAL_NAMES])}${precompiled ? '+precompiled' : ''}`;
  let templates = compiled.get(key);
  if (!templates) compiled.set(key, (templates = compileTemplates(sources, precompiled)));
  return templates;
}

/**
 * A play asks for the files of the same registry several times (to plan, to snapshot, to
 * write), and YAML stringifying is most of a mesh change's own time: each registry renders once.
 */
function memoByRegistry(render: (registry: Registry) => MeshFile[]): (registry: Registry) => MeshFile[] {
  const rendered = new Map<string, MeshFile[]>();
  return (registry) => {
    const key = JSON.stringify(Object.entries(registry).sort(([a], [b]) => a.localeCompare(b)));
    let files = rendered.get(key);
    if (!files) rendered.set(key, (files = render(registry)));
    return [...files];
  };
}

/** Plans and renders every pod of a spec and how its mesh files follow the registry. Pure. */
export function planDeployment(spec: Spec, inputs: DeploymentInputs): DeploymentPlan {
  const { images, roots } = inputs;
  const templates = templatesOf(inputs.templates, inputs.precompiled);
  const serviceDigest = digestOf(inputs.templates, SERVICE_TEMPLATES);
  const pods = spec.services.flatMap((service) =>
    planService(spec, service, images, roots, serviceDigest).map((plan) => ({ plan, rendered: renderPod(templates, plan) })),
  );
  const gatewayPlan = planGateway(spec, images.envoy, roots, digestOf(inputs.templates, GATEWAY_TEMPLATES));
  const meshWatchers = new Set([...(spec.gateway ? [GATEWAY] : []), ...spec.services.filter((s) => s.upstreams.length).map((s) => s.name)]);
  return {
    spec,
    roots,
    pods,
    ...(gatewayPlan ? { gateway: { plan: gatewayPlan, rendered: renderGateway(templates, gatewayPlan) } } : {}),
    meshWatchers,
    meshFiles: meshWatchers.size ? memoByRegistry((registry) => renderMeshFiles(spec, registry, roots)) : () => [],
    registry: withPods({}, pods.map(({ plan }) => ({ service: plan.service.name, pod: plan.pod }))),
    ...(spec.mtls ? { meshTls: { plan: planMeshTls(spec)!, sds: SDS_RENDERER } } : {}),
    ...(spec.gateway?.acme && gatewayPlan?.tls?.acme
      ? {
          acme: {
            settings: spec.gateway.acme,
            dir: gatewayPlan.tls.acme.dir,
            listeners: (challenges) => renderGatewayListenersFile(spec, roots, challenges),
            sds: renderGatewaySdsCertificate,
          },
        }
      : {}),
  };
}
