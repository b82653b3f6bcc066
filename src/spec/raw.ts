/**
 * What validation produces: the spec's values as written, checked, with every optional key still
 * optional. {@link applyDefaults} (defaults.ts) turns it into the complete {@link Spec}.
 */
import type { ImageOverrides, KubernetesOptions, MeshTls, Publish, Route, Site, Upstream } from './model.js';

export interface RawSpec {
  readonly name: string;
  readonly images?: ImageOverrides;
  readonly services: readonly RawService[];
  readonly gateway?: RawGateway;
  readonly kubernetes?: KubernetesOptions;
  /** Complete as read: mTLS's one default (the lifetime) depends on the spec's shape. */
  readonly mtls?: MeshTls;
  readonly accessLog?: 'json';
}

/** A host port as written: `hostIP` only when the spec gave "IP:PORT". */
export interface RawPublish {
  readonly hostIP?: Publish['hostIP'];
  readonly hostPort: number;
}

export interface RawGateway {
  readonly http: RawPublish;
  readonly https?: RawPublish;
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly acme?: RawAcme;
  readonly hsts?: boolean;
  readonly maxConnections?: number;
  readonly metrics?: RawPublish;
  readonly routes: readonly RawRoute[];
}

export interface RawAcme {
  readonly email: string;
  readonly directory?: string;
  readonly domains?: readonly string[];
}

export interface RawRoute {
  readonly host?: string;
  readonly prefix?: string;
  readonly backends: Route['backends'];
  readonly timeoutMs?: number;
  readonly retries?: number;
}

export interface RawService {
  readonly name: string;
  readonly app: RawStaticApp | RawImageApp;
  readonly sidecar: { readonly port?: number; readonly publish?: RawPublish };
  readonly upstreams?: readonly Upstream[];
  readonly health?: string;
  readonly replicas?: number;
  readonly allow?: readonly string[];
}

export interface RawStaticApp {
  readonly kind: 'static';
  readonly root: string;
  readonly port?: number;
  readonly proxy?: readonly { readonly prefix: string; readonly upstream: string }[];
  readonly site?: Site;
}

export interface RawImageApp {
  readonly kind: 'image';
  readonly image: string;
  readonly port: number;
  readonly env?: Readonly<Record<string, string>>;
}
