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
}

/** A directory served by nginx, mounted read-only. */
export interface StaticApp {
  readonly kind: 'static';
  /** Absolute host path of the site's directory (inside the spec's directory). */
  readonly root: string;
  /** Port nginx listens on, on 127.0.0.1 inside the pod. @default 8080 */
  readonly port: number;
}

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
} as const;
