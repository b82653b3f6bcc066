import { defaultAcmeDomains } from './acme.js';
import { DEFAULTS, LETS_ENCRYPT_DIRECTORY, type Gateway, type Publish, type Route, type Service, type Spec } from './model.js';
import type { RawGateway, RawPublish, RawRoute, RawService, RawSpec } from './raw.js';

/** Where the spec file is: the part of the model that comes from the loader, not the text. */
export interface SpecLocation {
  readonly absFile: string;
  readonly dir: string;
}

/** Fills in every default of a validated spec: pure, and total on whatever validation accepted. */
export function applyDefaults(raw: RawSpec, at: SpecLocation): Spec {
  return {
    name: raw.name,
    file: at.absFile,
    dir: at.dir,
    images: raw.images ?? {},
    services: raw.services.map(service),
    ...(raw.gateway && { gateway: gateway(raw.gateway) }),
    ...(raw.kubernetes && { kubernetes: raw.kubernetes }),
    ...(raw.mtls && { mtls: raw.mtls }),
    ...(raw.accessLog && { accessLog: raw.accessLog }),
  };
}

function publish(p: RawPublish): Publish {
  return { hostIP: p.hostIP ?? DEFAULTS.publishHost, hostPort: p.hostPort };
}

function gateway(g: RawGateway): Gateway {
  return {
    http: publish(g.http),
    ...(g.https && { https: publish(g.https) }),
    ...(g.metrics && { metrics: publish(g.metrics) }),
    ...(g.tls && { tls: g.tls }),
    ...(g.acme && {
      acme: {
        email: g.acme.email,
        directory: g.acme.directory ?? LETS_ENCRYPT_DIRECTORY.production,
        domains: g.acme.domains ?? defaultAcmeDomains(g.routes.map((r) => r.host)),
      },
    }),
    hsts: g.hsts ?? true,
    maxConnections: g.maxConnections ?? DEFAULTS.maxConnections,
    routes: g.routes.map(route),
  };
}

function route(r: RawRoute): Route {
  return {
    host: r.host ?? DEFAULTS.routeHost,
    prefix: r.prefix ?? DEFAULTS.routePrefix,
    backends: r.backends,
    timeoutMs: r.timeoutMs ?? DEFAULTS.routeTimeoutMs,
    retries: r.retries ?? DEFAULTS.routeRetries,
  };
}

function service(s: RawService): Service {
  const { app } = s;
  return {
    name: s.name,
    replicas: s.replicas ?? 1,
    sidecar: { port: s.sidecar.port ?? DEFAULTS.sidecarPort, ...(s.sidecar.publish && { publish: publish(s.sidecar.publish) }) },
    upstreams: s.upstreams ?? [],
    health: s.health ?? DEFAULTS.health,
    ...(s.allow && { allow: s.allow }),
    app:
      app.kind === 'static'
        ? { kind: 'static', root: app.root, port: app.port ?? DEFAULTS.staticPort, proxy: app.proxy ?? [], ...(app.site && { site: app.site }) }
        : { kind: 'image', image: app.image, port: app.port, env: app.env ?? {} },
  };
}
