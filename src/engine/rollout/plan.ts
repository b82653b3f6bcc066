import type { PodPaths } from '../../mesh/layout.js';
import { GATEWAY, networkName } from '../../mesh/names.js';
import type { DeploymentPlan, PlannedGateway, PlannedPod, RenderedPod } from '../../mesh/plan.js';
import type { MeshFile } from '../../mesh/registry.js';
import type { Publish } from '../../spec/model.js';
import type { DeployedPod } from '../podman/pods.js';

/**
 * The rollout planner: from the deployment a spec asks for and the pods that run, what play
 * starts, replaces and retires, and how each mesh file changes. Pure, so that `diff` shows
 * exactly the plan that `play` then walks.
 */

/** `create`: a new service or replica; `replace`: beside an older revision; `restart`: a stopped pod of the same revision. */
export type PodAction = 'create' | 'replace' | 'restart';

/** A pod this rollout starts, service or gateway. */
export interface PodStart {
  readonly service: string;
  readonly pod: string;
  readonly action: PodAction;
  readonly planned: PlannedPod | PlannedGateway;
  readonly files: RenderedPod;
  readonly paths: PodPaths;
  readonly envoyImage: string;
  /** The image whose nginx checks the pod's nginx config (static sites only). */
  readonly nginxImage?: string;
  /** The pod's mesh directory, which its Envoy (and so its validation) reads at start. */
  readonly xdsDir?: string;
  /** With mTLS: the pod's identity directory, which its Envoy's SDS files are in. */
  readonly meshTlsDir?: string;
  readonly url?: string;
  /** Host ports the pod publishes, with the spec key that asks for each. */
  readonly publishes: readonly (Publish & { readonly where: string })[];
  /** Running pods of earlier revisions that hold the same host port: stopped just before this one starts. */
  readonly portHolders: readonly DeployedPod[];
}

/** A mesh file whose content this rollout changes; `before` is undefined for a new file. */
export interface MeshFileChange {
  readonly file: MeshFile;
  readonly before: string | undefined;
}

export interface RolloutPlan {
  readonly spec: string;
  readonly network: string;
  /** Pods already running as planned. */
  readonly unchanged: readonly { readonly service: string; readonly pod: string; readonly url?: string }[];
  /** Service pods to start; they are registered in the mesh once they serve. */
  readonly starts: readonly PodStart[];
  /** The gateway's pod, started once the services it routes to are registered. */
  readonly gateway?: PodStart;
  /** Pods of earlier revisions, surplus replicas and removed services: deregistered, drained, removed. */
  readonly retire: readonly DeployedPod[];
  /** Of `retire`, the pods of services the spec no longer has. */
  readonly removed: readonly DeployedPod[];
  /** Every mesh file that differs, at the end of the rollout, from what is on disk now. */
  readonly meshChanges: readonly MeshFileChange[];
}

/**
 * Plans a rollout. `meshOnDisk` holds the current text of each of the deployment's mesh files
 * (undefined where missing), read by the caller.
 */
export function planRollout(
  deployment: DeploymentPlan,
  existing: readonly DeployedPod[],
  meshOnDisk: ReadonlyMap<string, string | undefined>,
): RolloutPlan {
  const planned = new Set([...deployment.pods.map((p) => p.plan.pod), ...(deployment.gateway ? [deployment.gateway.plan.pod] : [])]);
  const wanted = new Set([...deployment.spec.services.map((s) => s.name), ...(deployment.gateway ? [GATEWAY] : [])]);
  const retire = existing.filter((pod) => !planned.has(pod.name));
  const unchanged: RolloutPlan['unchanged'][number][] = [];
  const starts: PodStart[] = [];

  const startOf = (planned: PlannedPod | PlannedGateway, service: string, fields: Pick<PodStart, 'envoyImage' | 'publishes'> & { url?: string; xdsDir?: string; meshTlsDir?: string; nginxImage?: string }): PodStart | undefined => {
    const { plan, rendered } = planned;
    const current = existing.find((pod) => pod.name === plan.pod);
    if (current?.status === 'Running') {
      unchanged.push({ service, pod: plan.pod, ...(fields.url ? { url: fields.url } : {}) });
      return undefined;
    }
    const olds = retire.filter((pod) => pod.service === service);
    const action: PodAction = current ? 'restart' : olds.length ? 'replace' : 'create';
    const holdsPort = (pod: DeployedPod) => fields.url !== undefined && pod.url === fields.url && pod.status !== 'Exited';
    return {
      service,
      pod: plan.pod,
      action,
      planned,
      files: rendered,
      paths: plan.paths,
      ...fields,
      portHolders: action === 'restart' ? [] : olds.filter(holdsPort),
    };
  };

  for (const pod of deployment.pods) {
    const { service } = pod.plan;
    const start = startOf(pod, service.name, {
      envoyImage: pod.plan.images.envoy,
      ...(pod.rendered.nginxConf !== undefined ? { nginxImage: pod.plan.images.nginx } : {}),
      publishes: service.sidecar.publish ? [{ ...service.sidecar.publish, where: `services.${service.name}.sidecar.publish` }] : [],
      ...(pod.plan.url ? { url: pod.plan.url } : {}),
      ...(pod.plan.xdsDir ? { xdsDir: pod.plan.xdsDir } : {}),
      ...(pod.plan.meshTls ? { meshTlsDir: pod.plan.meshTls.dir } : {}),
    });
    if (start) starts.push(start);
  }
  const gw = deployment.gateway;
  const gateway =
    gw &&
    startOf(gw, GATEWAY, {
      envoyImage: gw.plan.image,
      publishes: [
        { ...deployment.spec.gateway!.http, where: 'gateway.http' },
        ...(deployment.spec.gateway!.https ? [{ ...deployment.spec.gateway!.https, where: 'gateway.https' }] : []),
        ...(deployment.spec.gateway!.metrics ? [{ ...deployment.spec.gateway!.metrics, where: 'gateway.metrics' }] : []),
      ],
      url: gw.plan.url,
      xdsDir: gw.plan.xdsDir,
      ...(gw.plan.meshTlsDir ? { meshTlsDir: gw.plan.meshTlsDir } : {}),
    });

  const meshChanges = deployment
    .meshFiles(deployment.registry)
    .map((file) => ({ file, before: meshOnDisk.get(file.path) }))
    .filter((change) => change.before !== change.file.text);
  return {
    spec: deployment.spec.name,
    network: networkName(deployment.spec),
    unchanged,
    starts,
    ...(gateway ? { gateway } : {}),
    retire,
    removed: retire.filter((pod) => !wanted.has(pod.service)),
    meshChanges,
  };
}

/** Whether the rollout changes nothing: no pod starts or retires, no mesh file changes. */
export function isNoop(plan: RolloutPlan): boolean {
  return !plan.starts.length && !plan.gateway && !plan.retire.length && !plan.meshChanges.length;
}
