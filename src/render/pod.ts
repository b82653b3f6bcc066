import { RESERVED_PORTS } from '../spec/model.js';
import { ADMIN_SOCKET, CONTAINER_RUN_DIR } from '../mesh/layout.js';
import type { PodPlan } from '../mesh/plan.js';
import type { Templates } from './templates.js';

/** The files one pod needs, as text, keyed by their role. */
export interface RenderedPod {
  readonly podYaml: string;
  readonly envoyYaml: string;
  /** Only for static services. */
  readonly nginxConf?: string;
}

/** Envoy worker threads per sidecar: two serve a small pod's traffic without idle memory per core. */
const ENVOY_CONCURRENCY = 2;

export function renderPod(templates: Templates, plan: PodPlan): RenderedPod {
  const { service, paths } = plan;
  const app = service.app;
  const podYaml = templates['pod.yaml']({
    pod: plan.pod,
    spec: plan.spec.name,
    labels: plan.labels,
    images: plan.images,
    static: app.kind === 'static' ? { root: app.root } : false,
    env: app.kind === 'image' ? Object.entries(app.env).map(([name, value]) => ({ name, value })) : [],
    sidecarPort: service.sidecar.port,
    publish: service.sidecar.publish ?? false,
    envoyConcurrency: ENVOY_CONCURRENCY,
    paths,
  });
  const envoyYaml = templates['sidecar-envoy.yaml']({
    pod: plan.pod,
    service: service.name,
    adminPort: RESERVED_PORTS.envoyAdmin,
    sidecarPort: service.sidecar.port,
    appPort: app.port,
    adminSocket: `${CONTAINER_RUN_DIR}/${ADMIN_SOCKET}`,
  });
  if (app.kind !== 'static') return { podYaml, envoyYaml };
  const nginxConf = templates['nginx.conf']({ pod: plan.pod, port: app.port });
  return { podYaml, envoyYaml, nginxConf };
}
