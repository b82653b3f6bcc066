/**
 * The validated, defaulted model a spec file becomes. Everything downstream (mesh, render,
 * engine) takes this, never raw YAML.
 */
export interface Spec {
  /** Deployment name: a DNS label of at most 20 characters. */
  readonly name: string;
  /** Absolute path of the spec file. */
  readonly file: string;
  /** Absolute directory of the spec file; relative paths in the spec resolve against it. */
  readonly dir: string;
  /** Images the spec pins; unset ones are chosen by the engine (local build, else official). */
  readonly images: ImageOverrides;
  /** Services in the order the spec lists them. */
  readonly services: readonly Service[];
  /** The front proxy of a mesh; a spec without one plays each service on its own. */
  readonly gateway?: Gateway;
  /** How the spec runs on a Kubernetes cluster; the podman target ignores it. */
  readonly kubernetes?: KubernetesOptions;
  /** Mutual TLS between the mesh's Envoys: on by default in a mesh, absent with `mtls: false` or without a mesh. */
  readonly mtls?: MeshTls;
  /**
   * `json`: every Envoy and nginx of the deployment logs each request as one JSON line with the
   * same fields (time, method, path, status, duration in ms, upstream, request_id), which
   * `podvoy logs --request` follows across hops. Absent: the text formats. @default "text"
   */
  readonly accessLog?: 'json';
}

/** Settings of the Kubernetes target only (`podvoy render --target kubernetes`, `podvoy kube`). */
export interface KubernetesOptions {
  /**
   * Where the site images of static services are pushed and pulled from, without a trailing
   * slash. @default "localhost/podvoy" (images imported into the cluster's runtime, no registry)
   * @example "registry.example.com/team"
   */
  readonly registry?: string;
  /** How the gateway (and each published sidecar) is reached from outside the cluster. @default "NodePort" */
  readonly expose?: 'NodePort' | 'LoadBalancer';
  /** The gateway's node ports, when exposed by NodePort (default: its host ports, when in the node port range). */
  readonly nodePorts?: { readonly http?: number; readonly https?: number };
}

/** The mesh's identities: a CA, and a certificate per Envoy with a SPIFFE ID. */
export interface MeshTls {
  /** The user's own CA (absolute PEM paths); unset: podvoy makes one per deployment. */
  readonly ca?: { readonly cert: string; readonly key: string };
  /** How long a service certificate is valid; it is renewed past half of it. @default 86400000 (24 h) */
  readonly lifetimeMs: number;
}

/** A gateway Envoy in front of the mesh: host ports, TLS and routes to services. */
export interface Gateway {
  /** Where plain HTTP is published on the host. */
  readonly http: Publish;
  /** Where HTTPS is published; with it, HTTP only redirects to HTTPS. */
  readonly https?: Publish;
  /** Certificate and key files (absolute); unset with https: podvoy generates a self-signed pair. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** With https: a certificate from an ACME server (Let's Encrypt) instead of `tls` files. */
  readonly acme?: Acme;
  /** Send Strict-Transport-Security on HTTPS answers. @default true */
  readonly hsts: boolean;
  /** Downstream connections the gateway holds at once; past it, new ones are closed. @default 10000 */
  readonly maxConnections: number;
  /**
   * Where the gateway's Prometheus metrics (`/stats/prometheus`, and no other path of its admin
   * interface) are published on the host; unset, they are on the mesh network only.
   * @example metrics: 9102
   */
  readonly metrics?: Publish;
  /** In spec order: the first route that matches a request takes it. */
  readonly routes: readonly Route[];
}

/** Let's Encrypt's ACME directories (https://letsencrypt.org/docs/environments/). */
export const LETS_ENCRYPT_DIRECTORY = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** `gateway.tls.acme`: the gateway's certificate, obtained and renewed from an ACME server over HTTP-01. */
export interface Acme {
  /** The account's contact address. */
  readonly email: string;
  /** The ACME server's directory URL. @default LETS_ENCRYPT_DIRECTORY.production */
  readonly directory: string;
  /**
   * The names the certificate carries, each proved by HTTP-01 on the gateway's HTTP port.
   * @default the routes' hosts that are not wildcards, in spec order
   */
  readonly domains: readonly string[];
}

export interface Route {
  /** Host name to match (`blog.example.com`, `*.example.com`), or `*` for any. @default "*" */
  readonly host: string;
  /** Path prefix to match. @default "/" */
  readonly prefix: string;
  /** One service with weight 100, or a split between several (weights are relative). */
  readonly backends: readonly { readonly service: string; readonly weight: number }[];
  /** @default 15000 */
  readonly timeoutMs: number;
  /** Retries of a failed request (connect failure, reset, 502/503/504). @default 2 */
  readonly retries: number;
}

/** A service this one calls: its sidecar listens on 127.0.0.1:port in the pod and forwards there. */
export interface Upstream {
  readonly service: string;
  readonly port: number;
}

export interface ImageOverrides {
  readonly nginx?: string;
  readonly envoy?: string;
}

/** One service: an app and its Envoy sidecar, played as one pod. */
export interface Service {
  /** A DNS label of at most 20 characters, unique in the spec. */
  readonly name: string;
  readonly app: StaticApp | ImageApp;
  readonly sidecar: Sidecar;
  /** Services this one calls through its sidecar, in spec order. */
  readonly upstreams: readonly Upstream[];
  /** Path the gateway and the sidecar request to check the app. @default "/" */
  readonly health: string;
  /** Identical pods of the service, each with its sidecar, behind the same cluster. @default 1 */
  readonly replicas: number;
  /**
   * Who may call the service through its sidecar (`gateway` or service names), checked on the
   * caller's certificate. Unset: every member of the mesh.
   * @example ["gateway", "blog"]
   */
  readonly allow?: readonly string[];
}

/** A directory served by nginx, mounted read-only. */
export interface StaticApp {
  readonly kind: 'static';
  /** Absolute host path of the site's directory (inside the spec's directory). */
  readonly root: string;
  /** Port nginx listens on, on 127.0.0.1 inside the pod. @default 8080 */
  readonly port: number;
  /** Path prefixes nginx forwards to an upstream's loopback port, in spec order. */
  readonly proxy: readonly { readonly prefix: string; readonly upstream: string }[];
  /** How the site is served: index names, its 404 page, trailing slashes, caching, CSP. Unset: {@link DEFAULT_SITE}. */
  readonly site?: Site;
}

/**
 * How a static site is served, as a web host would (`services.<name>.site`).
 * @example
 * ```yaml
 * site:
 *   index: [index.html]
 *   notFound: 404.html
 *   trailingSlash: add
 *   csp: "default-src 'self'"
 *   cache:
 *   - {prefix: /assets/, control: "public, max-age=31536000, immutable"}
 * ```
 */
export interface Site {
  /** File names tried, in order, for a path that names a folder. @default ["index.html"] */
  readonly index: readonly string[];
  /** A page of the site (a path from its root, e.g. `/404.html`) answered with status 404. */
  readonly notFound?: string;
  /**
   * `add`: a folder without its trailing slash redirects to it (`/posts` -> `/posts/`).
   * `remove`: a path with a trailing slash redirects to the path without it, which serves the
   * folder's index. Redirects are relative, so they keep the visitor's scheme, host and port.
   * @default "add"
   */
  readonly trailingSlash: 'add' | 'remove';
  /** Cache-Control rules in order, the spec's first, then {@link DEFAULT_CACHE_RULES}; the first match wins. */
  readonly cache: readonly CacheRule[];
  /** Content-Security-Policy sent with every answer of the service; none by default. */
  readonly csp?: string;
}

/** `Cache-Control: <control>` for the paths that start with `prefix` or end with `suffix`. */
export type CacheRule =
  | { readonly prefix: string; readonly control: string }
  | { readonly suffix: string; readonly control: string };

/** Pages are revalidated on every view (ETag / Last-Modified make that a 304). */
export const REVALIDATE = 'no-cache';
/** Assets (stylesheets, scripts, images, fonts) are kept a day without asking. */
export const ASSET_CACHE = 'public, max-age=86400';
const ASSET_SUFFIXES = ['.css', '.js', '.mjs', '.png', '.jpg', '.jpeg', '.gif', '.webp', '.avif', '.svg', '.ico', '.woff', '.woff2'];

/** Blog-suited caching after the spec's own rules; anything they do not match is revalidated. */
export const DEFAULT_CACHE_RULES: readonly CacheRule[] = [
  { suffix: '.html', control: REVALIDATE },
  ...ASSET_SUFFIXES.map((suffix) => ({ suffix, control: ASSET_CACHE })),
];

/** A static site with no `site` key: index.html, nginx's own 404, `add`, the default caching, no CSP. */
export const DEFAULT_SITE: Site = { index: ['index.html'], trailingSlash: 'add', cache: DEFAULT_CACHE_RULES };

/** Any HTTP app from an image. */
export interface ImageApp {
  readonly kind: 'image';
  readonly image: string;
  /** Port the app listens on inside the pod. */
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
}

export interface Sidecar {
  /** Envoy's inbound listener inside the pod. @default 10000 */
  readonly port: number;
  /** Where the inbound listener is published on the host, if anywhere. */
  readonly publish?: Publish;
}

export interface Publish {
  /** @default "127.0.0.1" */
  readonly hostIP: string;
  readonly hostPort: number;
}

/** Ports podvoy itself uses inside every pod; a spec may not claim them. */
export const RESERVED_PORTS = { envoyAdmin: 9901 } as const;

export const DEFAULTS = {
  staticPort: 8080,
  sidecarPort: 10000,
  publishHost: '127.0.0.1',
  health: '/',
  routeHost: '*',
  routePrefix: '/',
  routeTimeoutMs: 15_000,
  routeRetries: 2,
  maxConnections: 10_000,
  certificateLifetimeMs: 24 * 3_600_000,
} as const;
