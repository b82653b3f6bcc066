/**
 * Turns a spec's text into the validated, defaulted {@link Spec}. Pure: the file system is reached
 * only through {@link SpecHost}. Every problem is collected with its path and position, and all
 * are thrown together as one SpecError; defaults are filled in only once there are none.
 *
 * The schema:
 * ```yaml
 * name: blog                 # required; a DNS label ([a-z]([a-z0-9-]*[a-z0-9])?) of at most 20 characters
 * images:                    # optional; pins the images podvoy runs (keys: nginx, envoy)
 *   nginx: docker.io/library/nginx:1.27
 *   envoy: docker.io/envoyproxy/envoy:v1.36.2
 * services:                  # required, at least one; each key is a service name (DNS label, <= 20 characters)
 *   web:
 *     static: ./site         # a directory inside the spec's folder, relative to it; or else:
 *     image: ghcr.io/x/y:1   # an app image; then `port` is required
 *     port: 8080             # the app's port inside the pod, 1024-65535; static default 8080
 *     env: {KEY: value}      # image apps only; string values (quote numbers and booleans)
 *     sidecar:               # optional
 *       port: 10000          # Envoy's inbound port inside the pod, 1024-65535; default 10000
 *       publish: 8080        # optional host port on 127.0.0.1, or "IP:PORT" such as "0.0.0.0:8080"
 * ```
 * Unknown keys are errors. Ports are integers; 9901 is reserved for Envoy's admin interface.
 */
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Node, type YAMLMap } from 'yaml';
import { DEFAULTS, RESERVED_PORTS, type ImageOverrides, type Publish, type Service, type Spec } from './model.js';
import { describe, Problems, type Entry, type Fields } from './positions.js';

/** What parsing needs from the file system, so that parsing itself stays pure. */
export interface SpecHost {
  /** Absolute directory of the spec file. */
  readonly dir: string;
  /** Absolute path of the spec file. */
  readonly absFile: string;
  isDirectory(absPath: string): boolean;
  /** Resolves symlinks; only called for paths `isDirectory` accepted. */
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

const KEYS = {
  top: ['name', 'images', 'services'],
  images: ['nginx', 'envoy'],
  service: ['static', 'image', 'port', 'env', 'sidecar'],
  sidecar: ['port', 'publish'],
} as const;

const EXAMPLE = 'examples/blog/podvoy.yaml';

export function parseSpec(text: string, file: string, host: SpecHost): Spec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, intAsBigInt: true });
  const problems = new Problems(file, lines, doc);

  for (const error of doc.errors) {
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'The spec must be a single YAML document. Remove the extra --- line.'
        : `YAML syntax error: ${error.message.split('\n')[0]?.replace(/[.:]\s*$/, '')}. Fix the YAML at this position.`;
    problems.atOffset(error.pos[0], '', message);
  }
  visit(doc, {
    Alias(_, alias) {
      if (!alias.resolve(doc)) {
        problems.add(alias, '', `YAML alias *${alias.source} has no anchor before it. Define &${alias.source} first.`);
      }
    },
  });
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

class SpecReader {
  private readonly published: { publish: Publish; path: string }[] = [];

  constructor(
    private readonly problems: Problems,
    private readonly host: SpecHost,
  ) {}

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
    if (top.services && entries?.length === 0) {
      this.fail(top.services.at, top.services.path, 'No services are defined. Add at least one, e.g. web: {static: ./site}.');
    }
    const services = (entries ?? []).map((e) => this.service(e));

    if (name === undefined || !entries?.length || this.problems.count > 0) return undefined;
    return {
      name,
      file: this.host.absFile,
      dir: this.host.dir,
      images: images ?? {},
      services: services.filter((s): s is Service => s !== undefined),
    };
  }

  private images(e: Entry): ImageOverrides | undefined {
    const fields = this.problems.entries(e.value, e.path, KEYS.images);
    return fields && Object.fromEntries(fields.list.map((i) => [i.name, this.imageRef(i)]));
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
    if (f.image && !f.static && isMissing(fields, 'port')) {
      this.fail(e.at, e.path, 'Missing required key "port" for an image app. Add the port the app listens on, e.g. port: 8080.');
    }

    const root = f.static && this.staticDir(f.static);
    const image = f.image && this.imageRef(f.image);
    const port = f.port && this.containerPort(f.port);
    const env = f.env && this.env(f.env);
    const sidecar = (f.sidecar && this.problems.entries(f.sidecar.value, f.sidecar.path, KEYS.sidecar)?.get) ?? {};
    const sidecarPort = sidecar.port ? this.containerPort(sidecar.port) : DEFAULTS.sidecarPort;
    const publish = sidecar.publish && this.publish(sidecar.publish);

    const appPort = port ?? (f.static ? DEFAULTS.staticPort : undefined);
    const admin = RESERVED_PORTS.envoyAdmin;
    for (const [entry, value] of [[f.port, port] as const, [sidecar.port, sidecarPort] as const]) {
      if (entry && value === admin) {
        this.fail(entry.at, entry.path, `Port ${admin} is reserved for Envoy's admin interface. Pick another port.`);
      }
    }
    if (appPort !== undefined && appPort === sidecarPort && appPort !== admin) {
      if (sidecar.port) {
        const from = f.port ? f.port.path : 'the default for static sites';
        this.fail(sidecar.port.at, sidecar.port.path, `Port ${appPort} is also the app's port (${from}). Give the sidecar another port.`);
      } else if (f.port) {
        this.fail(f.port.at, f.port.path, `Port ${appPort} is also the sidecar's port (the default). Pick another port, or set sidecar.port.`);
      }
    }
    if (publish && sidecar.publish) this.claimHostPort(publish, sidecar.publish);

    if (name === undefined || appPort === undefined || sidecarPort === undefined) return undefined;
    const sidecarModel = { port: sidecarPort, ...(publish && { publish }) };
    if (root !== undefined) return { name, app: { kind: 'static', root, port: appPort }, sidecar: sidecarModel };
    if (image !== undefined) return { name, app: { kind: 'image', image, port: appPort, env: env ?? {} }, sidecar: sidecarModel };
    return undefined;
  }

  private claimHostPort(publish: Publish, e: Entry): void {
    const other = this.published.find(
      ({ publish: o }) =>
        o.hostPort === publish.hostPort && (o.hostIP === publish.hostIP || o.hostIP === ANY_IP || publish.hostIP === ANY_IP),
    );
    if (!other) {
      this.published.push({ publish, path: e.path });
      return;
    }
    const { hostIP, hostPort } = other.publish;
    this.fail(e.at, e.path, `Host port ${publish.hostIP}:${publish.hostPort} clashes with ${other.path} (${hostIP}:${hostPort}). Publish each service on its own port.`);
  }

  private fail(at: Node, path: string, message: string): undefined {
    this.problems.add(at, path, message);
    return undefined;
  }

  private string(e: Entry): string | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'string') return e.value.value;
    return this.fail(e.at, e.path, `Must be a string, not ${describe(e.value)}.`);
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

  private staticDir(e: Entry): string | undefined {
    const given = this.string(e);
    if (given === undefined) return undefined;
    const abs = path.resolve(this.host.dir, given);
    if (!this.host.isDirectory(abs)) {
      return this.fail(e.at, e.path, `${given} does not exist or is not a directory. Create it or fix the path.`);
    }
    const root = this.host.realpath(abs);
    const base = this.host.realpath(this.host.dir);
    const rel = path.relative(base, root);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      return this.fail(e.at, e.path, `${given} resolves to ${root}, outside the spec's folder ${base}. Move the directory inside that folder; symlinks out of it are refused.`);
    }
    return root;
  }

  private integer(e: Entry, what: string): number | undefined {
    const v = e.value;
    if (isScalar(v) && typeof v.value === 'bigint') return Number(v.value);
    const quoted = isScalar(v) && typeof v.value === 'string' && /^[0-9]+$/.test(v.value);
    return this.fail(e.at, e.path, `Must be ${what}, not ${describe(v)}.${quoted ? ' Remove the quotes.' : ''}`);
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
