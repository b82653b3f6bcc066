/**
 * Turns a spec's text into the validated, defaulted {@link Spec}. Pure: the file system is reached
 * only through {@link SpecHost}. Every problem is collected with its path and position, and all
 * are thrown together as one SpecError; defaults are filled in only once there are none.
 *
 * The schema:
 * ```yaml
 * name: shop                   # required; a DNS label ([a-z]([a-z0-9-]*[a-z0-9])?) of at most 20 characters
 * images:                      # optional; pins the images podvoy runs (keys: nginx, envoy)
 *   nginx: docker.io/library/nginx:1.27
 *   envoy: docker.io/envoyproxy/envoy:v1.36.2
 * gateway:                     # optional; a spec with a gateway is a mesh, entered through one Envoy
 *   http: 8080                 # required; host port on 127.0.0.1, or "IP:PORT" such as "0.0.0.0:8080"
 *   https: 8443                # optional, same form; then plain HTTP only redirects to HTTPS
 *   tls:                       # optional, only with https; without it podvoy generates a self-signed pair
 *     cert: ./tls/cert.pem     # PEM files inside the spec's folder, relative to it; both keys required
 *     key: ./tls/key.pem
 *   hsts: true                 # optional, only with https; default true
 *   maxConnections: 10000      # optional, 1-1000000: connections the gateway accepts at once
 *   routes:                    # required: a list of at least one; the first route that matches takes a request
 *   - prefix: /api/            # optional, default "/"; starts with "/"; letters, digits and . _ ~ / -; <= 200 characters
 *     host: blog.localhost     # optional, default "*" (any host); a lowercase DNS name, or "*.example.com" (quoted)
 *     service: api             # the service that takes the requests; or else:
 *     split: {blog: 90, canary: 10}  # services and integer weights 0-1000, relative to each other, not all 0
 *     timeout: 15s             # optional, default 15s; an integer and a unit (ms, s, m), from 1ms to 10m
 *     retries: 2               # optional, default 2; 0-10
 * mtls: false                  # optional; see spec/mtls.ts: mTLS on every hop of a mesh (default), a CA, lifetimes
 * services:                    # required, at least one; each key is a service name (DNS label, <= 20 characters)
 *   web:
 *     static: ./site           # a directory inside the spec's folder, relative to it; or else:
 *     image: ghcr.io/x/y:1     # an app image; then `port` is required
 *     port: 8080               # the app's port inside the pod, 1024-65535; static default 8080
 *     env: {KEY: value}        # image apps only; string values (quote numbers and booleans)
 *     upstreams: {api: 9001}   # optional; services this one calls, each reached on its own 127.0.0.1 port
 *                              #   in the pod (1024-65535), where the sidecar forwards the calls
 *     proxy: {/api/: api}      # optional, static only; path prefixes (as in routes) nginx forwards to an upstream
 *     health: /                # optional, default "/"; the path checked for health; like a prefix, plus ? = &
 *     replicas: 2              # optional, 1-20, default 1: pods of the service; more than one cannot publish
 *     allow: [gateway, blog]   # optional, mesh with mTLS only; who may call the service (default every member)
 *     sidecar:                 # optional
 *       port: 10000            # Envoy's inbound port inside the pod, 1024-65535; default 10000
 *       publish: 8080          # optional host port on 127.0.0.1, or "IP:PORT" such as "0.0.0.0:8080"
 * ```
 * Unknown keys are errors. Ports are integers; 9901 is reserved for Envoy's admin interface. Routes
 * and upstreams name services of the spec; the ports inside a pod, and the host ports of the
 * gateway and the sidecars, must all differ.
 */
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Node, type YAMLMap } from 'yaml';
import {
  DEFAULTS,
  RESERVED_PORTS,
  type Gateway,
  type ImageOverrides,
  type Publish,
  type Route,
  type Service,
  type Spec,
  type StaticApp,
  type Upstream,
} from './model.js';
import { MeshSecurityReader } from './mtls.js';
import { describe, Problems, shown, type Entry, type Fields } from './positions.js';

/** What parsing needs from the file system, so that parsing itself stays pure. */
export interface SpecHost {
  /** Absolute directory of the spec file. */
  readonly dir: string;
  /** Absolute path of the spec file. */
  readonly absFile: string;
  isDirectory(absPath: string): boolean;
  /** Whether a regular file (or a symlink to one) exists at the path. */
  isFile(absPath: string): boolean;
  /** Resolves symlinks; only called for paths `isDirectory` or `isFile` accepted. */
  realpath(absPath: string): string;
}

const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const NAME_MAX = 20;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IMAGE_MAX = 255;
// A conservative subset of the distribution reference grammar: lowercase, no shell or YAML specials.
const IMAGE_REF = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
  const registry = `${label}(?:\\.${label})*(?::[0-9]+)?/`;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  return new RegExp(`^(?:${registry})?${component}(?:/${component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
})();
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IP_PORT = new RegExp(`^(${OCTET}(?:\\.${OCTET}){3}):([0-9]+)$`);
const ANY_IP = '0.0.0.0';

// Path prefixes and health paths reach nginx and Envoy configs; a small alphabet keeps them inert there.
const PATHS = {
  prefix: { what: 'path prefix', char: /[A-Za-z0-9._~/-]/, allowed: 'letters, digits and . _ ~ / -' },
  health: { what: 'health path', char: /[A-Za-z0-9._~/?=&-]/, allowed: 'letters, digits and . _ ~ / - ? = &' },
} as const;
const PATH_MAX = 200;
// A DNS name of LDH labels (RFC 1123), optionally a wildcard for the subdomains of one.
const HOST_NAME = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  return new RegExp(`^(?:\\*\\.)?${label}(?:\\.${label})*$`);
})();
const HOST_MAX = 253;
const ANY_HOST = '*';
const DURATION = /^([0-9]+)(ms|s|m)$/;
const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };
const TIMEOUT_MAX_MS = 10 * 60_000;
const RETRIES_MAX = 10;
const WEIGHT_MAX = 1000;
/** The weight of a route's only service; weights are relative, so any value would do. */
const SOLE_WEIGHT = 100;
/** The gateway's pod and mesh directory are named like a service's; a service may not take the name. */
const GATEWAY_NAME = 'gateway';

const MAX_CONNECTIONS_MAX = 1_000_000;
const REPLICAS_MAX = 20;
const ALIASES_MAX = 100;
const SERVICES_MAX = 100;
const ROUTES_MAX = 200;

const KEYS = {
  top: ['name', 'images', 'gateway', 'mtls', 'services'],
  images: ['nginx', 'envoy'],
  gateway: ['http', 'https', 'tls', 'hsts', 'maxConnections', 'routes'],
  tls: ['cert', 'key'],
  route: ['prefix', 'host', 'service', 'split', 'timeout', 'retries'],
  service: ['static', 'image', 'port', 'env', 'sidecar', 'upstreams', 'proxy', 'health', 'replicas', 'allow'],
  sidecar: ['port', 'publish'],
} as const;

const EXAMPLE = 'examples/blog/podvoy.yaml';

export function parseSpec(text: string, file: string, host: SpecHost): Spec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, intAsBigInt: true });
  const problems = new Problems(file, lines, doc);

  // An unquoted `*` or `*.example.com` (a route host) is read as an alias; say so instead of
  // reporting a syntax error or an anchor to define.
  const quoteInstead = new Set<number>();
  // Each alias is resolved by a walk of the document: many of them would take quadratic time.
  let aliases = 0;
  visit(doc, { Alias: () => void aliases++ });
  if (aliases > ALIASES_MAX) {
    problems.atOffset(0, '', `The spec has ${aliases} YAML aliases; podvoy reads at most ${ALIASES_MAX}. Write the values out instead.`);
    problems.throwIfAny();
  }
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc)) return;
      if (alias.source === '' || alias.source.startsWith('.')) {
        quoteInstead.add(alias.range?.[0] ?? 0);
        problems.add(alias, '', `YAML reads *${alias.source} as an alias. If you meant the text, quote it: "*${alias.source}".`);
      } else {
        problems.add(alias, '', `YAML alias *${alias.source} has no anchor before it. Define &${alias.source} first.`);
      }
    },
  });
  for (const error of doc.errors) {
    if (error.code === 'BAD_ALIAS' && quoteInstead.has(error.pos[0])) continue;
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'The spec must be a single YAML document. Remove the extra --- line.'
        : `YAML syntax error: ${error.message.split('\n')[0]?.replace(/[.:]\s*$/, '')}. Fix the YAML at this position.`;
    problems.atOffset(error.pos[0], '', message);
  }
  problems.throwIfAny();

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    problems.atOffset(0, '', `The spec is empty. Start from ${EXAMPLE}.`);
  } else if (!isMap(root)) {
    problems.add(root, '', `The spec must be a map with the keys name and services, not ${describe(root)}. Start from ${EXAMPLE}.`);
  }
  const spec = isMap(root) ? new SpecReader(problems, host).spec(root) : undefined;
  problems.throwIfAny();
  if (!spec) throw new Error('podvoy bug: a spec without problems was not built');
  return spec;
}

/** A host port the spec publishes, and the key that publishes it. */
interface Claim {
  readonly publish: Publish;
  readonly entry: Entry;
}

/** A route as far as it could be read: its host and prefix (for duplicates) even when the rest is wrong. */
interface RouteRead {
  readonly entry: Entry;
  /** Where a duplicate of an earlier route is reported: its prefix, else its host, else the route. */
  readonly where: Entry;
  readonly host?: string;
  readonly prefix?: string;
  readonly route?: Route;
}

class SpecReader {
  private readonly claims: Claim[] = [];
  /** Names of the spec's services, once known; references to services are checked against them. */
  private serviceNames: readonly string[] | undefined;
  private readonly security: MeshSecurityReader;

  constructor(
    private readonly problems: Problems,
    private readonly host: SpecHost,
  ) {
    this.security = new MeshSecurityReader(problems, (e) => this.inSpecDir(e, 'file'));
  }

  spec(root: YAMLMap): Spec | undefined {
    const fields = this.problems.entries(root, '', KEYS.top);
    if (!fields) return undefined;
    const top = fields.get;
    if (isMissing(fields, 'name')) {
      this.fail(root, '', 'Missing required key "name". Add a name for the deployment, e.g. name: blog.');
    }
    if (isMissing(fields, 'services')) {
      this.fail(root, '', 'Missing required key "services". Add at least one service, e.g. services: {web: {static: ./site}}.');
    }
    const name = top.name && this.label(top.name.at, top.name.path, this.string(top.name));
    const images = top.images && this.images(top.images);

    const entries = top.services && this.problems.entries(top.services.value, top.services.path)?.list;
    if (entries && entries.length > SERVICES_MAX) {
      this.fail(top.services!.at, top.services!.path, `${entries.length} services; a spec may have at most ${SERVICES_MAX}. Split it into several specs.`);
      return undefined;
    }
    if (top.services && entries?.length === 0) {
      this.fail(top.services.at, top.services.path, 'No services are defined. Add at least one, e.g. web: {static: ./site}.');
    }
    this.serviceNames = entries?.length ? entries.map((e) => e.name) : undefined;
    const services = (entries ?? []).map((e) => this.service(e));
    const gateway = top.gateway && this.gateway(top.gateway);
    if (top.gateway) {
      for (const e of entries ?? []) {
        if (e.name === GATEWAY_NAME) {
          this.fail(e.key, e.path, `The name "${GATEWAY_NAME}" is taken by the mesh's gateway. Rename the service.`);
        }
      }
    }
    this.claimHostPorts();
    const mtls = this.security.mtls(top.mtls, { gateway: top.gateway !== undefined, upstreams: services.some((s) => (s?.upstreams.length ?? 0) > 0) });

    if (name === undefined || !entries?.length || this.problems.count > 0) return undefined;
    return {
      name,
      file: this.host.absFile,
      dir: this.host.dir,
      images: images ?? {},
      services: services.filter((s): s is Service => s !== undefined),
      ...(gateway && { gateway }),
      ...(mtls && { mtls }),
    };
  }

  private images(e: Entry): ImageOverrides | undefined {
    const fields = this.problems.entries(e.value, e.path, KEYS.images);
    return fields && Object.fromEntries(fields.list.map((i) => [i.name, this.imageRef(i)]));
  }

  private gateway(e: Entry): Gateway | undefined {
    const fields = this.problems.entries(e.value, e.path, KEYS.gateway);
    if (!fields) return undefined;
    const f = fields.get;
    if (isMissing(fields, 'http')) {
      this.fail(e.at, e.path, 'Missing required key "http". Add the host port for plain HTTP, e.g. http: 8080.');
    }
    if (isMissing(fields, 'routes')) {
      this.fail(e.at, e.path, 'Missing required key "routes". Add at least one route, e.g. routes: [{service: web}].');
    }
    for (const only of [f.tls, f.hsts]) {
      if (only && isMissing(fields, 'https')) {
        this.fail(only.key, only.path, `${only.name} applies only with https. Add https (e.g. https: 8443) or remove ${only.name}.`);
      }
    }

    const http = f.http && this.publish(f.http);
    const https = f.https && this.publish(f.https);
    if (http && f.http) this.claims.push({ publish: http, entry: f.http });
    if (https && f.https) this.claims.push({ publish: https, entry: f.https });
    const tls = f.tls && this.tls(f.tls);
    const hsts = f.hsts ? this.boolean(f.hsts) : true;
    const routes = f.routes && this.routes(f.routes);
    const maxConnections = f.maxConnections
      ? this.bounded(f.maxConnections, 'a number of connections', 1, MAX_CONNECTIONS_MAX)
      : DEFAULTS.maxConnections;

    if (!http || !routes || hsts === undefined || maxConnections === undefined || (f.https && !https) || (f.tls && !tls)) return undefined;
    return { http, ...(https && { https }), ...(tls && { tls }), hsts, maxConnections, routes };
  }

  private tls(e: Entry): Gateway['tls'] {
    const fields = this.problems.entries(e.value, e.path, KEYS.tls);
    if (!fields) return undefined;
    if (isMissing(fields, 'cert')) {
      this.fail(e.at, e.path, 'Missing required key "cert". Add the certificate file (PEM), e.g. cert: ./tls/cert.pem.');
    }
    if (isMissing(fields, 'key')) {
      this.fail(e.at, e.path, 'Missing required key "key". Add the private key file (PEM), e.g. key: ./tls/key.pem.');
    }
    const cert = fields.get.cert && this.inSpecDir(fields.get.cert, 'file');
    const key = fields.get.key && this.inSpecDir(fields.get.key, 'file');
    return cert && key ? { cert, key } : undefined;
  }

  private routes(e: Entry): Route[] | undefined {
    const items = this.problems.items(e.value, e.path);
    if (!items) return undefined;
    if (items.length === 0) {
      return this.fail(e.at, e.path, 'No routes are defined. Add at least one, e.g. routes: [{service: web}].');
    }
    if (items.length > ROUTES_MAX) {
      return this.fail(e.at, e.path, `${items.length} routes; a gateway may have at most ${ROUTES_MAX}. Merge routes with common prefixes.`);
    }
    const first = new Map<string, Entry>();
    const read = items.map((item) => this.route(item));
    for (const { entry, where, host, prefix } of read) {
      if (host === undefined || prefix === undefined) continue;
      const id = JSON.stringify([host, prefix]);
      const earlier = first.get(id);
      if (!earlier) {
        first.set(id, entry);
        continue;
      }
      const line = this.problems.lineOf(earlier.at);
      this.fail(
        where.at,
        where.path,
        `Same host "${host}" and prefix "${prefix}" as ${earlier.path} (line ${line}), so this route could never match. Remove it or change its host or prefix.`,
      );
    }
    const routes = read.map((r) => r.route);
    return routes.every((r): r is Route => r !== undefined) ? routes : undefined;
  }

  private route(e: Entry): RouteRead {
    const fields = this.problems.entries(e.value, e.path, KEYS.route);
    if (!fields) return { entry: e, where: e };
    const f = fields.get;
    if (f.service && f.split) {
      const later = fields.list.indexOf(f.service) > fields.list.indexOf(f.split) ? f.service : f.split;
      this.fail(later.key, e.path, 'Has both service and split. Keep one: service sends every request to one service, split shares them out by weight.');
    } else if (isMissing(fields, 'service') && isMissing(fields, 'split')) {
      this.fail(e.at, e.path, 'Needs service (the service that takes the requests) or split (services and their weights). Add one of them.');
    }

    const host = f.host ? this.routeHost(f.host) : DEFAULTS.routeHost;
    const prefix = f.prefix ? this.urlPath(f.prefix.at, f.prefix.path, this.string(f.prefix), 'prefix') : DEFAULTS.routePrefix;
    const service = f.service && this.serviceRef(f.service.at, f.service.path, this.string(f.service));
    const split = f.split && this.split(f.split);
    const timeoutMs = f.timeout ? this.duration(f.timeout) : DEFAULTS.routeTimeoutMs;
    const retries = f.retries ? this.bounded(f.retries, 'a number of retries', 0, RETRIES_MAX) : DEFAULTS.routeRetries;

    const where = f.prefix ?? f.host ?? e;
    const backends = service !== undefined ? [{ service, weight: SOLE_WEIGHT }] : split;
    if (host === undefined || prefix === undefined || backends === undefined || timeoutMs === undefined || retries === undefined) {
      return { entry: e, where, host, prefix };
    }
    return { entry: e, where, host, prefix, route: { host, prefix, backends, timeoutMs, retries } };
  }

  private split(e: Entry): Route['backends'] | undefined {
    const fields = this.problems.entries(e.value, e.path);
    if (!fields) return undefined;
    if (fields.list.length === 0) {
      return this.fail(e.at, e.path, 'Needs at least one service and its weight, e.g. split: {blog: 90, canary: 10}.');
    }
    const backends = fields.list.map((w) => ({
      service: this.serviceRef(w.key, w.path, w.name),
      weight: this.bounded(w, 'a weight', 0, WEIGHT_MAX),
    }));
    const weights = backends.map((b) => b.weight);
    if (weights.every((w) => w === 0)) {
      this.fail(e.at, e.path, 'The weights add up to 0, so no request could be sent anywhere. Give at least one service a weight above 0.');
    }
    return backends.every((b): b is { service: string; weight: number } => b.service !== undefined && b.weight !== undefined)
      ? backends
      : undefined;
  }

  private service(e: Entry): Service | undefined {
    const name = this.label(e.key, e.path, e.name);
    const fields = this.problems.entries(e.value, e.path, KEYS.service);
    if (!fields) return undefined;
    const f = fields.get;

    if (f.static && f.image) {
      const later = fields.list.indexOf(f.static) > fields.list.indexOf(f.image) ? f.static : f.image;
      this.fail(later.key, e.path, 'Has both static and image. Keep one: static serves a directory with nginx, image runs an app.');
    } else if (isMissing(fields, 'static') && isMissing(fields, 'image')) {
      this.fail(e.at, e.path, 'Needs static (a directory to serve) or image (an app to run). Add one of them.');
    }
    if (f.static && f.env) this.fail(f.env.key, f.env.path, 'env applies only to image apps. Remove it.');
    if (f.image && !f.static && f.proxy) {
      this.fail(f.proxy.key, f.proxy.path, 'proxy applies only to static sites. Remove it; an image app calls its upstreams on their ports itself.');
    }
    if (f.image && !f.static && isMissing(fields, 'port')) {
      this.fail(e.at, e.path, 'Missing required key "port" for an image app. Add the port the app listens on, e.g. port: 8080.');
    }

    const root = f.static && this.inSpecDir(f.static, 'directory');
    const image = f.image && this.imageRef(f.image);
    const port = f.port && this.containerPort(f.port);
    const env = f.env && this.env(f.env);
    const read = f.upstreams && this.upstreams(f.upstreams, e.name);
    const upstreams = read ?? [];
    // Proxy targets are checked against the upstreams only if those could be read.
    const targets = f.upstreams ? read?.map((u) => u.entry.name) : [];
    const proxy = f.static && f.proxy ? this.proxy(f.proxy, targets) : [];
    const health = f.health ? this.urlPath(f.health.at, f.health.path, this.string(f.health), 'health') : DEFAULTS.health;
    const sidecar = (f.sidecar && this.problems.entries(f.sidecar.value, f.sidecar.path, KEYS.sidecar)?.get) ?? {};
    const sidecarPort = sidecar.port ? this.containerPort(sidecar.port) : DEFAULTS.sidecarPort;
    const publish = sidecar.publish && this.publish(sidecar.publish);

    const appPort = port ?? (f.static ? DEFAULTS.staticPort : undefined);
    const admin = RESERVED_PORTS.envoyAdmin;
    const inPod = [[f.port, port] as const, [sidecar.port, sidecarPort] as const, ...upstreams.map((u) => [u.entry, u.port] as const)];
    for (const [entry, value] of inPod) {
      if (entry && value === admin) {
        this.fail(entry.at, entry.path, `Port ${admin} is reserved for Envoy's admin interface. Pick another port.`);
      }
    }
    const appFrom = f.port ? f.port.path : 'the default for static sites';
    if (appPort !== undefined && appPort === sidecarPort && appPort !== admin) {
      if (sidecar.port) {
        this.fail(sidecar.port.at, sidecar.port.path, `Port ${appPort} is also the app's port (${appFrom}). Give the sidecar another port.`);
      } else if (f.port) {
        this.fail(f.port.at, f.port.path, `Port ${appPort} is also the sidecar's port (the default). Pick another port, or set sidecar.port.`);
      }
    }
    upstreams.forEach((u, i) => {
      if (u.port === undefined || u.port === admin) return;
      const twin = upstreams.slice(0, i).find((o) => o.port === u.port);
      const clash =
        u.port === appPort
          ? `the app's port (${appFrom})`
          : u.port === sidecarPort
            ? `the sidecar's port (${sidecar.port ? sidecar.port.path : 'the default'})`
            : twin && `the port of upstream "${twin.entry.name}" (${twin.entry.path})`;
      if (clash) this.fail(u.entry.at, u.entry.path, `Port ${u.port} is also ${clash}. Pick another port for this upstream.`);
    });
    if (publish && sidecar.publish) this.claims.push({ publish, entry: sidecar.publish });
    const allow = f.allow && this.security.allow(f.allow, e.name, this.serviceNames);
    const replicas = f.replicas ? this.bounded(f.replicas, 'a number of replicas', 1, REPLICAS_MAX) : 1;
    if (f.replicas && replicas !== undefined && replicas > 1 && sidecar.publish) {
      this.fail(
        f.replicas.at,
        f.replicas.path,
        'A published sidecar has one host port, so only one replica. Remove sidecar.publish (serve it through a gateway) or set replicas: 1.',
      );
    }

    if (name === undefined || appPort === undefined || sidecarPort === undefined || health === undefined || replicas === undefined) return undefined;
    const common = {
      name,
      replicas,
      sidecar: { port: sidecarPort, ...(publish && { publish }) },
      upstreams: upstreams.flatMap(({ service, port }): Upstream[] => (port === undefined ? [] : [{ service, port }])),
      health,
      ...(allow && { allow }),
    };
    if (root !== undefined && proxy !== undefined) {
      const app: StaticApp = { kind: 'static', root, port: appPort, proxy };
      return { ...common, app };
    }
    if (image !== undefined) return { ...common, app: { kind: 'image', image, port: appPort, env: env ?? {} } };
    return undefined;
  }

  /** A service's upstreams in spec order, each with the key it came from, even when its port is wrong. */
  private upstreams(e: Entry, self: string): { entry: Entry; service: string; port: number | undefined }[] | undefined {
    const fields = this.problems.entries(e.value, e.path);
    return fields?.list.map((u) => {
      if (u.name === self) {
        this.fail(u.key, u.path, `A service cannot be its own upstream. Remove "${self}"; the app reaches itself directly.`);
      } else {
        this.serviceRef(u.key, u.path, u.name);
      }
      return { entry: u, service: u.name, port: this.containerPort(u) };
    });
  }

  private proxy(e: Entry, upstreams: readonly string[] | undefined): StaticApp['proxy'] | undefined {
    const fields = this.problems.entries(e.value, e.path);
    if (!fields) return undefined;
    const proxy = fields.list.map((p) => {
      const prefix = this.urlPath(p.key, p.path, p.name, 'prefix');
      const upstream = this.string(p);
      if (upstream !== undefined && upstreams && !upstreams.includes(upstream)) {
        // Only a valid service name is worth suggesting, and only it is safe to repeat bare.
        const named = NAME.test(upstream) ? upstream : 'that service';
        const fix = upstreams.length
          ? `Proxy to one of them (${upstreams.join(', ')}), or add ${named} to upstreams.`
          : `It has none; add upstreams: {${NAME.test(upstream) ? upstream : 'api'}: 9001} to the service.`;
        this.fail(p.at, p.path, `${shown(upstream)} is not one of this service's upstreams. ${fix}`);
        return undefined;
      }
      return prefix !== undefined && upstream !== undefined ? { prefix, upstream } : undefined;
    });
    return proxy.every((p): p is { prefix: string; upstream: string } => p !== undefined) ? proxy : undefined;
  }

  /** Reports, in source order, each host port published where an earlier one already is. */
  private claimHostPorts(): void {
    const offset = (c: Claim) => c.entry.at.range?.[0] ?? 0;
    const claimed: Claim[] = [];
    for (const claim of [...this.claims].sort((a, b) => offset(a) - offset(b))) {
      const { hostIP, hostPort } = claim.publish;
      const other = claimed.find(
        ({ publish: o }) => o.hostPort === hostPort && (o.hostIP === hostIP || o.hostIP === ANY_IP || hostIP === ANY_IP),
      );
      if (!other) {
        claimed.push(claim);
        continue;
      }
      const fix = [claim, other].every((c) => c.entry.path.startsWith('services.'))
        ? 'Publish each service on its own port.'
        : 'Give the gateway and each published sidecar a host port of their own.';
      this.fail(
        claim.entry.at,
        claim.entry.path,
        `Host port ${hostIP}:${hostPort} clashes with ${other.entry.path} (${other.publish.hostIP}:${other.publish.hostPort}). ${fix}`,
      );
    }
  }

  private fail(at: Node, path: string, message: string): undefined {
    this.problems.add(at, path, message);
    return undefined;
  }

  private string(e: Entry): string | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'string') return e.value.value;
    return this.fail(e.at, e.path, `Must be a string, not ${describe(e.value)}.`);
  }

  private boolean(e: Entry): boolean | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
    return this.fail(e.at, e.path, `Must be true or false, not ${describe(e.value)}.`);
  }

  private label(at: Node, path: string, text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    if (!NAME.test(text)) {
      return this.fail(at, path, `${JSON.stringify(text)} is not a valid name. Use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.`);
    }
    if (text.length > NAME_MAX) {
      return this.fail(at, path, `"${text}" is ${text.length} characters long; names may have at most ${NAME_MAX}. Shorten it.`);
    }
    return text;
  }

  /** A name that must be one of the spec's services (unchecked while the services are unknown). */
  private serviceRef(at: Node, path: string, name: string | undefined): string | undefined {
    if (name === undefined || !this.serviceNames || this.serviceNames.includes(name)) return name;
    return this.fail(at, path, `No service ${shown(name)}. Services: ${this.serviceNames.join(', ')}.`);
  }

  private imageRef(e: Entry): string | undefined {
    const ref = this.string(e);
    if (ref === undefined) return undefined;
    if (ref.length > IMAGE_MAX) {
      return this.fail(e.at, e.path, `The image reference is ${ref.length} characters long; at most ${IMAGE_MAX} are allowed. Use a shorter one.`);
    }
    if (!IMAGE_REF.test(ref)) {
      return this.fail(e.at, e.path, `${JSON.stringify(ref)} is not a valid image reference. Write it like docker.io/library/nginx:1.27 (lowercase name, optional :tag and @sha256:digest).`);
    }
    return ref;
  }

  /** A directory or file inside the spec's folder, as its real path. */
  private inSpecDir(e: Entry, kind: 'directory' | 'file'): string | undefined {
    const given = this.string(e);
    if (given === undefined) return undefined;
    const abs = path.resolve(this.host.dir, given);
    if (!(kind === 'directory' ? this.host.isDirectory(abs) : this.host.isFile(abs))) {
      return this.fail(e.at, e.path, `${given} does not exist or is not a ${kind}. Create it or fix the path.`);
    }
    const real = this.host.realpath(abs);
    const base = this.host.realpath(this.host.dir);
    const rel = path.relative(base, real);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      return this.fail(e.at, e.path, `${given} resolves to ${real}, outside the spec's folder ${base}. Move the ${kind} inside that folder; symlinks out of it are refused.`);
    }
    return real;
  }

  /** A route or proxy prefix, or a health path. */
  private urlPath(at: Node, path: string, text: string | undefined, kind: keyof typeof PATHS): string | undefined {
    if (text === undefined) return undefined;
    const { what, char, allowed } = PATHS[kind];
    if (!text.startsWith('/')) {
      return this.fail(at, path, `The ${what} ${JSON.stringify(text)} does not start with "/". Write it as ${JSON.stringify(`/${text}`)}.`);
    }
    if (text.length > PATH_MAX) {
      return this.fail(at, path, `The ${what} is ${text.length} characters long; at most ${PATH_MAX} are allowed. Shorten it.`);
    }
    const bad = [...text].find((c) => !char.test(c));
    if (bad !== undefined) {
      return this.fail(at, path, `The ${what} ${JSON.stringify(text)} contains ${JSON.stringify(bad)}, which is not allowed. Use only ${allowed}.`);
    }
    return text;
  }

  private routeHost(e: Entry): string | undefined {
    const host = this.string(e);
    if (host === undefined || host === ANY_HOST) return host;
    if (host.length > HOST_MAX) {
      return this.fail(e.at, e.path, `The host is ${host.length} characters long; at most ${HOST_MAX} are allowed. Shorten it.`);
    }
    if (!HOST_NAME.test(host)) {
      return this.fail(e.at, e.path, `${JSON.stringify(host)} is not a valid host. Write "*" for any host, a lowercase DNS name such as blog.example.com, or "*.example.com" for its subdomains.`);
    }
    return host;
  }

  private duration(e: Entry): number | undefined {
    const v = e.value;
    if (!isScalar(v) || typeof v.value !== 'string') {
      const fix = isScalar(v) && typeof v.value === 'bigint' ? ` Add a unit: ${v.source}s or ${v.source}ms.` : '';
      return this.fail(e.at, e.path, `Must be a duration such as 15s or 250ms, not ${describe(v)}.${fix}`);
    }
    const [, amount, unit] = DURATION.exec(v.value) ?? [];
    if (amount === undefined || unit === undefined) {
      return this.fail(e.at, e.path, `${JSON.stringify(v.value)} is not a duration. Write an integer and a unit (ms, s or m), e.g. 250ms, 15s or 2m.`);
    }
    const ms = Number(amount) * (DURATION_UNIT_MS[unit] ?? 0);
    if (ms < 1 || ms > TIMEOUT_MAX_MS) {
      return this.fail(e.at, e.path, `${v.value} is out of range. Use a timeout from 1ms to 10m.`);
    }
    return ms;
  }

  private integer(e: Entry, what: string): number | undefined {
    const v = e.value;
    if (isScalar(v) && typeof v.value === 'bigint') return Number(v.value);
    const quoted = isScalar(v) && typeof v.value === 'string' && /^[0-9]+$/.test(v.value);
    return this.fail(e.at, e.path, `Must be ${what}, not ${describe(v)}.${quoted ? ' Remove the quotes.' : ''}`);
  }

  /** An integer from min to max; `what` names it in messages, e.g. "a weight". */
  private bounded(e: Entry, what: string, min: number, max: number): number | undefined {
    const n = this.integer(e, 'an integer');
    if (n === undefined || (n >= min && n <= max)) return n;
    return this.fail(e.at, e.path, `${n} is out of range. Use ${what} from ${min} to ${max}.`);
  }

  private containerPort(e: Entry): number | undefined {
    const port = this.integer(e, 'an integer port number');
    if (port === undefined || (port >= 1024 && port <= 65535)) return port;
    if (port >= 1 && port < 1024) {
      return this.fail(e.at, e.path, `Port ${port} is below 1024; ports below 1024 need root inside the container. Use a port from 1024 to 65535, e.g. 8080.`);
    }
    return this.fail(e.at, e.path, `Port ${port} is out of range. Use a port from 1024 to 65535.`);
  }

  private hostPort(e: Entry, port: number | undefined): number | undefined {
    if (port === undefined || (port >= 1 && port <= 65535)) return port;
    return this.fail(e.at, e.path, `Port ${port} is out of range. Use a host port from 1 to 65535.`);
  }

  private publish(e: Entry): Publish | undefined {
    const v = e.value;
    if (isScalar(v) && typeof v.value === 'string') {
      const [, hostIP, port] = IP_PORT.exec(v.value) ?? [];
      if (hostIP === undefined || port === undefined) {
        return this.fail(e.at, e.path, `${JSON.stringify(v.value)} is not an IPv4 address and port. Write it as "IP:PORT", e.g. "0.0.0.0:8080", or give just a port number.`);
      }
      const hostPort = this.hostPort(e, Number(port));
      return hostPort === undefined ? undefined : { hostIP, hostPort };
    }
    const hostPort = this.hostPort(e, this.integer(e, 'a host port number or an "IP:PORT" string'));
    return hostPort === undefined ? undefined : { hostIP: DEFAULTS.publishHost, hostPort };
  }

  private env(e: Entry): Record<string, string> | undefined {
    const fields = this.problems.entries(e.value, e.path);
    if (!fields) return undefined;
    const pairs = fields.list.map((v) => {
      if (!ENV_NAME.test(v.name)) {
        this.fail(v.key, v.path, `${JSON.stringify(v.name)} is not a valid environment variable name. Use letters, digits and underscores, not starting with a digit.`);
      }
      if (isScalar(v.value) && typeof v.value.value === 'string') return [v.name, v.value.value];
      const fix = isScalar(v.value) ? ` Quote it: "${v.value.source}".` : v.value === null ? ' Write "" for an empty string.' : '';
      this.fail(v.at, v.path, `Must be a string, not ${describe(v.value)}.${fix}`);
      return [v.name, ''];
    });
    // fromEntries defines own properties, so a variable named __proto__ stays an ordinary key.
    return Object.fromEntries(pairs);
  }
}

/** A key is missing unless present, or an unknown key was already reported as its likely misspelling. */
function isMissing(fields: Fields, key: string): boolean {
  return !fields.get[key] && !fields.misspelt.has(key);
}
