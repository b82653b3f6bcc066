/** The spec's top level: its name, pinned images, services, gateway, mTLS and Kubernetes settings. */
import type { YAMLMap } from 'yaml';
import type { SpecContext } from './context.js';
import { isMissing } from './fields.js';
import { readGateway } from './gateway.js';
import { readKubernetes } from './kubernetes.js';
import type { ImageOverrides } from './model.js';
import { shown, type Entry } from './positions.js';
import type { RawService, RawSpec } from './raw.js';
import { readService } from './services.js';
import { checkHostPorts } from './host-ports.js';
import { checkServedPaths } from './served.js';

export const TOP_KEYS = ['name', 'images', 'gateway', 'mtls', 'services', 'kubernetes', 'accessLog'] as const;
const IMAGE_KEYS = ['nginx', 'envoy'] as const;
const SERVICES_MAX = 100;
/** The gateway's pod and mesh directory are named like a service's; a service may not take the name. */
const GATEWAY_NAME = 'gateway';

/** Validates the whole spec; undefined when it has any problem (each one reported). */
export function readSpec(ctx: SpecContext, root: YAMLMap): RawSpec | undefined {
  const fields = ctx.problems.entries(root, '', TOP_KEYS);
  if (!fields) return undefined;
  const top = fields.get;
  if (isMissing(fields, 'name')) {
    ctx.fail(root, '', 'Missing required key "name". Add a name for the deployment, e.g. name: blog.');
  }
  if (isMissing(fields, 'services')) {
    ctx.fail(root, '', 'Missing required key "services". Add at least one service, e.g. services: {web: {static: ./site}}.');
  }
  const name = top.name && ctx.label(top.name.at, top.name.path, ctx.string(top.name));
  const images = top.images && readImages(ctx, top.images);
  const kubernetes = top.kubernetes && readKubernetes(ctx, top.kubernetes);
  const accessLog = top.accessLog && readAccessLog(ctx, top.accessLog);

  const entries = top.services && ctx.problems.entries(top.services.value, top.services.path)?.list;
  if (entries && entries.length > SERVICES_MAX) {
    ctx.fail(top.services!.at, top.services!.path, `${entries.length} services; a spec may have at most ${SERVICES_MAX}. Split it into several specs.`);
    return undefined;
  }
  if (top.services && entries?.length === 0) {
    ctx.fail(top.services.at, top.services.path, 'No services are defined. Add at least one, e.g. web: {static: ./site}.');
  }
  ctx.setServiceNames(entries?.length ? entries.map((e) => e.name) : undefined);
  const services = (entries ?? []).map((e) => readService(ctx, e));
  const gateway = top.gateway && readGateway(ctx, top.gateway);
  if (top.gateway) {
    for (const e of entries ?? []) {
      if (e.name === GATEWAY_NAME) {
        ctx.fail(e.key, e.path, `The name "${GATEWAY_NAME}" is taken by the mesh's gateway. Rename the service.`);
      }
    }
  }
  const mtls = ctx.security.mtls(top.mtls, { gateway: top.gateway !== undefined, upstreams: services.some((s) => (s?.upstreams?.length ?? 0) > 0) });
  if (mtls?.ca) {
    ctx.secrets.push({ path: mtls.ca.cert, what: "the mesh CA's certificate (mtls.ca.cert)" }, { path: mtls.ca.key, what: "the mesh CA's key (mtls.ca.key)" });
  }
  checkHostPorts(ctx);
  checkServedPaths(ctx);

  if (name === undefined || !entries?.length || ctx.problems.count > 0) return undefined;
  return {
    name,
    ...(images && { images }),
    services: services.filter((s): s is RawService => s !== undefined),
    ...(gateway && { gateway }),
    ...(kubernetes && { kubernetes }),
    ...(mtls && { mtls }),
    ...(accessLog === 'json' && { accessLog }),
  };
}

function readAccessLog(ctx: SpecContext, e: Entry): 'text' | 'json' | undefined {
  const format = ctx.string(e);
  if (format === undefined || format === 'text' || format === 'json') return format;
  return ctx.fail(e.at, e.path, `${shown(format)} is not an access log format. Use text (the default) or json.`);
}

function readImages(ctx: SpecContext, e: Entry): ImageOverrides | undefined {
  const fields = ctx.problems.entries(e.value, e.path, IMAGE_KEYS);
  return fields && Object.fromEntries(fields.list.map((i) => [i.name, ctx.imageRef(i)]));
}
