/** `services`: each app, what it calls, and how it is checked. */
import { isScalar } from 'yaml';
import { forbiddenCharacter } from './characters.js';
import type { SpecContext } from './context.js';
import { isMissing, NAME } from './fields.js';
import { DEFAULTS, RESERVED_PORTS, type Upstream } from './model.js';
import { describe, listed, shown, type Entry } from './positions.js';
import type { RawService, RawStaticApp } from './raw.js';
import { readSidecar } from './sidecar.js';
import { readSite } from './site.js';

export const SERVICE_KEYS = ['static', 'image', 'port', 'env', 'sidecar', 'upstreams', 'proxy', 'health', 'replicas', 'site', 'allow'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REPLICAS_MAX = 20;

/** An upstream as read, with the key it came from, even when its port is wrong. */
interface UpstreamRead {
  readonly entry: Entry;
  readonly service: string;
  readonly port: number | undefined;
}

export function readService(ctx: SpecContext, e: Entry): RawService | undefined {
  const name = ctx.label(e.key, e.path, e.name);
  const fields = ctx.problems.entries(e.value, e.path, SERVICE_KEYS);
  if (!fields) return undefined;
  const f = fields.get;

  if (f.static && f.image) {
    const later = fields.list.indexOf(f.static) > fields.list.indexOf(f.image) ? f.static : f.image;
    ctx.fail(later.key, e.path, 'Has both static and image. Keep one: static serves a directory with nginx, image runs an app.');
  } else if (isMissing(fields, 'static') && isMissing(fields, 'image')) {
    ctx.fail(e.at, e.path, 'Needs static (a directory to serve) or image (an app to run). Add one of them.');
  }
  if (f.static && f.env) ctx.fail(f.env.key, f.env.path, 'env applies only to image apps. Remove it.');
  if (f.image && !f.static && f.proxy) {
    ctx.fail(f.proxy.key, f.proxy.path, 'proxy applies only to static sites. Remove it; an image app calls its upstreams on their ports itself.');
  }
  if (f.image && !f.static && isMissing(fields, 'port')) {
    ctx.fail(e.at, e.path, 'Missing required key "port" for an image app. Add the port the app listens on, e.g. port: 8080.');
  }

  const root = f.static && ctx.inSpecDir(f.static, 'directory');
  if (root && f.static) ctx.sites.push({ root, entry: f.static });
  const image = f.image && ctx.imageRef(f.image);
  const port = f.port && ctx.containerPort(f.port);
  const env = f.env && readEnv(ctx, f.env);
  const read = f.upstreams && readUpstreams(ctx, f.upstreams, e.name);
  const upstreams = read ?? [];
  // Proxy targets are checked against the upstreams only if those could be read.
  const targets = f.upstreams ? read?.map((u) => u.entry.name) : [];
  const proxy = f.static && f.proxy && readProxy(ctx, f.proxy, targets);
  const site = f.site && readSite(ctx.problems, f.site, root || undefined, ctx.host, Boolean(f.static));
  const allow = f.allow && ctx.security.allow(f.allow, e.name, ctx.serviceNames && [...ctx.serviceNames]);
  const health = f.health && ctx.urlPath(f.health.at, f.health.path, ctx.string(f.health), 'health');
  const sidecar = readSidecar(ctx, f.sidecar);
  checkPodPorts(ctx, f, port, sidecar.fields.port, sidecar.port, upstreams);
  const replicas = f.replicas && ctx.bounded(f.replicas, 'a number of replicas', 1, REPLICAS_MAX);
  if (replicas !== undefined && replicas > 1 && sidecar.fields.publish) {
    ctx.fail(
      f.replicas!.at,
      f.replicas!.path,
      'A published sidecar has one host port, so only one replica. Remove sidecar.publish (serve it through a gateway) or set replicas: 1.',
    );
  }

  const appPort = port ?? (f.static ? DEFAULTS.staticPort : undefined);
  if (
    name === undefined ||
    appPort === undefined ||
    (f.port && port === undefined) ||
    sidecar.failed ||
    (f.health && health === undefined) ||
    (f.replicas && replicas === undefined)
  ) {
    return undefined;
  }
  const common = {
    name,
    ...(replicas !== undefined && { replicas }),
    sidecar: { ...(sidecar.port !== undefined && { port: sidecar.port }), ...(sidecar.publish && { publish: sidecar.publish }) },
    ...(f.upstreams && { upstreams: upstreams.flatMap(({ service, port: p }): Upstream[] => (p === undefined ? [] : [{ service, port: p }])) }),
    ...(health !== undefined && { health }),
    ...(allow && { allow }),
  };
  if (root !== undefined && (!f.proxy || proxy !== undefined) && (!f.site || site !== undefined)) {
    const app: RawStaticApp = { kind: 'static', root, ...(port !== undefined && { port }), ...(proxy && { proxy }), ...(site && { site }) };
    return { ...common, app };
  }
  if (image !== undefined && port !== undefined) return { ...common, app: { kind: 'image', image, port, ...(env && { env }) } };
  return undefined;
}

/** The ports inside one pod: none may be Envoy's admin port, and no two may be the same. */
function checkPodPorts(
  ctx: SpecContext,
  f: Partial<Record<string, Entry>>,
  port: number | undefined,
  sidecarEntry: Entry | undefined,
  sidecarPortRead: number | undefined,
  upstreams: readonly UpstreamRead[],
): void {
  const appPort = port ?? (f.static ? DEFAULTS.staticPort : undefined);
  const sidecarPort = sidecarEntry ? sidecarPortRead : DEFAULTS.sidecarPort;
  const admin = RESERVED_PORTS.envoyAdmin;
  const inPod = [[f.port, port] as const, [sidecarEntry, sidecarPort] as const, ...upstreams.map((u) => [u.entry, u.port] as const)];
  for (const [entry, value] of inPod) {
    if (entry && value === admin) {
      ctx.fail(entry.at, entry.path, `Port ${admin} is reserved for Envoy's admin interface. Pick another port.`);
    }
  }
  const appFrom = f.port ? f.port.path : 'the default for static sites';
  if (appPort !== undefined && appPort === sidecarPort && appPort !== admin) {
    if (sidecarEntry) {
      ctx.fail(sidecarEntry.at, sidecarEntry.path, `Port ${appPort} is also the app's port (${appFrom}). Give the sidecar another port.`);
    } else if (f.port) {
      ctx.fail(f.port.at, f.port.path, `Port ${appPort} is also the sidecar's port (the default). Pick another port, or set sidecar.port.`);
    }
  }
  // The first upstream on each port, so that a clash is found in one pass.
  const firstOnPort = new Map<number, UpstreamRead>();
  for (const u of upstreams) {
    if (u.port === undefined || u.port === admin) continue;
    const twin = firstOnPort.get(u.port);
    if (!twin) firstOnPort.set(u.port, u);
    const clash =
      u.port === appPort
        ? `the app's port (${appFrom})`
        : u.port === sidecarPort
          ? `the sidecar's port (${sidecarEntry ? sidecarEntry.path : 'the default'})`
          : twin && `the port of upstream ${shown(twin.entry.name)} (${twin.entry.path})`;
    if (clash) ctx.fail(u.entry.at, u.entry.path, `Port ${u.port} is also ${clash}. Pick another port for this upstream.`);
  }
}

/** A service's upstreams in spec order. */
function readUpstreams(ctx: SpecContext, e: Entry, self: string): UpstreamRead[] | undefined {
  const fields = ctx.problems.entries(e.value, e.path);
  return fields?.list.map((u) => {
    if (u.name === self) {
      ctx.fail(u.key, u.path, `A service cannot be its own upstream. Remove ${shown(self)}; the app reaches itself directly.`);
    } else {
      ctx.serviceRef(u.key, u.path, u.name);
    }
    return { entry: u, service: u.name, port: ctx.containerPort(u) };
  });
}

function readProxy(ctx: SpecContext, e: Entry, upstreams: readonly string[] | undefined): RawStaticApp['proxy'] | undefined {
  const fields = ctx.problems.entries(e.value, e.path);
  if (!fields) return undefined;
  const known = upstreams && new Set(upstreams);
  const proxy = fields.list.map((p) => {
    if (p.name === '/') {
      ctx.fail(p.key, p.path, 'The proxy prefix "/" would take every request from the site. Proxy a path below it, e.g. /api/, or serve the upstream through the gateway.');
      return undefined;
    }
    const prefix = ctx.urlPath(p.key, p.path, p.name, 'prefix');
    const upstream = ctx.string(p);
    if (upstream !== undefined && upstreams && known && !known.has(upstream)) {
      // Only a valid service name is worth suggesting, and only it is safe to repeat bare.
      const named = NAME.test(upstream) && upstream.length <= 20 ? upstream : 'that service';
      const fix = upstreams.length
        ? `Proxy to one of them (${listed(upstreams)}), or add ${named} to upstreams.`
        : `It has none; add upstreams: {${NAME.test(upstream) && upstream.length <= 20 ? upstream : 'api'}: 9001} to the service.`;
      ctx.fail(p.at, p.path, `${shown(upstream)} is not one of this service's upstreams. ${fix}`);
      return undefined;
    }
    return prefix !== undefined && upstream !== undefined ? { prefix, upstream } : undefined;
  });
  return proxy.every((p): p is { prefix: string; upstream: string } => p !== undefined) ? proxy : undefined;
}

function readEnv(ctx: SpecContext, e: Entry): Record<string, string> | undefined {
  const fields = ctx.problems.entries(e.value, e.path);
  if (!fields) return undefined;
  const pairs = fields.list.map((v) => {
    if (!ENV_NAME.test(v.name)) {
      ctx.fail(v.key, v.path, `${shown(v.name)} is not a valid environment variable name. Use letters, digits and underscores, not starting with a digit.`);
    }
    if (isScalar(v.value) && typeof v.value.value === 'string') {
      const bad = forbiddenCharacter(v.value.value, { allowTabAndNewline: true });
      if (bad) {
        const why = bad.what.startsWith('U+0000') ? 'no environment variable can hold it' : "podman's YAML reader refuses it";
        ctx.fail(v.at, v.path, `The value contains ${bad.what} at character ${bad.position}; ${why}. Remove it.`);
      }
      return [v.name, v.value.value];
    }
    const fix = isScalar(v.value) ? ` Quote it: "${v.value.source}".` : v.value === null ? ' Write "" for an empty string.' : '';
    ctx.fail(v.at, v.path, `Must be a string, not ${describe(v.value)}.${fix}`);
    return [v.name, ''];
  });
  // fromEntries defines own properties, so a variable named __proto__ stays an ordinary key.
  return Object.fromEntries(pairs);
}
