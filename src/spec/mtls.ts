/**
 * The mesh-security part of a spec: `mtls` at the top and `allow` per service. Pure, like the
 * rest of the parser; called from parse.ts, which owns the positions and the other keys.
 *
 * ```yaml
 * mtls: false                  # optional; a mesh (a gateway, or upstreams) has mTLS on every hop by default
 * mtls:                        # ...or settings:
 *   ca: {cert: ./ca.pem, key: ./ca-key.pem}   # optional: your own CA (PEM files inside the spec's folder)
 *   lifetime: 24h              # optional, default 24h: of each service certificate; an integer and m, h or d, 10m-365d
 * services:
 *   api:
 *     allow: [gateway, blog]   # optional, default every member: who may call the service
 * ```
 */
import { isMap, isScalar, type Node } from 'yaml';
import { DEFAULTS, type MeshTls } from './model.js';
import { describe, shown, type Entry, type Problems } from './positions.js';

const KEYS = { mtls: ['ca', 'lifetime'], ca: ['cert', 'key'] } as const;
const LIFETIME = /^([0-9]+)(m|h|d)$/;
const LIFETIME_UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const LIFETIME_MIN_MS = 10 * 60_000;
const LIFETIME_MAX_MS = 365 * 86_400_000;
/** The gateway's identity is named like a service. */
const GATEWAY = 'gateway';

/** What makes a spec a mesh, whose hops mTLS protects. */
export interface MeshShape {
  readonly gateway: boolean;
  readonly upstreams: boolean;
}

/**
 * Reads `mtls` and every service's `allow`, and checks them against each other once the
 * services and the gateway are known. Problems go to the spec's one collection.
 */
export class MeshSecurityReader {
  private readonly allows: Entry[] = [];

  constructor(
    private readonly problems: Problems,
    /** A file inside the spec's folder, as parse.ts resolves it (or undefined, reported). */
    private readonly file: (e: Entry) => string | undefined,
  ) {}

  /** A service's `allow`: names of services, or `gateway`. */
  allow(e: Entry, self: string, services: readonly string[] | undefined): string[] | undefined {
    this.allows.push(e);
    const items = this.problems.items(e.value, e.path);
    if (!items) return undefined;
    const seen = new Set<string>();
    const names = items.map((item) => {
      const name = isScalar(item.value) && typeof item.value.value === 'string' ? item.value.value : undefined;
      if (name === undefined) return this.fail(item.at, item.path, `Must be a service name or gateway, not ${describe(item.value)}.`);
      if (seen.has(name)) return this.fail(item.at, item.path, `${shown(name)} is listed twice. Remove one.`);
      seen.add(name);
      if (name !== GATEWAY && services && !services.includes(name)) {
        return this.fail(item.at, item.path, `No service ${shown(name)}. Allow gateway or one of: ${services.join(', ')}.`);
      }
      if (name === self) return this.fail(item.at, item.path, `A service does not call itself through its sidecar. Remove "${self}".`);
      return name;
    });
    return names.every((n): n is string => n !== undefined) ? names : undefined;
  }

  /** The spec's mTLS settings once its shape is known: undefined when off. */
  mtls(e: Entry | undefined, shape: MeshShape): MeshTls | undefined {
    const mesh = shape.gateway || shape.upstreams;
    const read = e === undefined ? (mesh ? { lifetimeMs: DEFAULTS.certificateLifetimeMs } : false) : this.read(e);
    if (e && read !== false && read !== undefined && !mesh) {
      this.fail(e.key, e.path, 'mtls applies only to a mesh, whose Envoys call each other. Add a gateway or upstreams, or remove mtls.');
    }
    for (const allow of this.allows) {
      if (!mesh) {
        this.fail(allow.key, allow.path, 'allow applies only to a mesh. Add a gateway or upstreams, or remove allow.');
      } else if (read === false) {
        this.fail(allow.key, allow.path, 'allow is checked on certificates, and mtls is false. Remove mtls: false, or remove allow.');
      } else if (!shape.gateway) {
        for (const item of this.problems.items(allow.value, allow.path) ?? []) {
          if (isScalar(item.value) && item.value.value === GATEWAY) {
            this.fail(item.at, item.path, 'The spec has no gateway. Remove gateway from allow, or add a gateway.');
          }
        }
      }
    }
    return read === false ? undefined : read;
  }

  private read(e: Entry): MeshTls | false | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') {
      return e.value.value ? { lifetimeMs: DEFAULTS.certificateLifetimeMs } : false;
    }
    if (!isMap(e.value)) {
      return this.fail(e.at, e.path, `Must be true, false or a map (ca, lifetime), not ${describe(e.value)}.`);
    }
    const fields = this.problems.entries(e.value, e.path, KEYS.mtls);
    if (!fields) return undefined;
    const { ca: caEntry, lifetime: lifetimeEntry } = fields.get;
    const ca = caEntry && this.ca(caEntry);
    const lifetimeMs = lifetimeEntry ? this.lifetime(lifetimeEntry) : DEFAULTS.certificateLifetimeMs;
    if ((caEntry && !ca) || lifetimeMs === undefined) return undefined;
    return { ...(ca && { ca }), lifetimeMs };
  }

  private ca(e: Entry): MeshTls['ca'] {
    const fields = this.problems.entries(e.value, e.path, KEYS.ca);
    if (!fields) return undefined;
    if (!fields.get.cert && !fields.misspelt.has('cert')) {
      this.fail(e.at, e.path, 'Missing required key "cert". Add the CA certificate file (PEM), e.g. cert: ./ca/ca.pem.');
    }
    if (!fields.get.key && !fields.misspelt.has('key')) {
      this.fail(e.at, e.path, 'Missing required key "key". Add the CA private key file (PEM), e.g. key: ./ca/ca-key.pem.');
    }
    const cert = fields.get.cert && this.file(fields.get.cert);
    const key = fields.get.key && this.file(fields.get.key);
    return cert && key ? { cert, key } : undefined;
  }

  private lifetime(e: Entry): number | undefined {
    const v = e.value;
    const [, amount, unit] = (isScalar(v) && typeof v.value === 'string' && LIFETIME.exec(v.value)) || [];
    if (amount === undefined || unit === undefined) {
      return this.fail(e.at, e.path, `Must be a lifetime such as 24h, 90m or 7d, not ${describe(v)}.`);
    }
    const ms = Number(amount) * (LIFETIME_UNIT_MS[unit] ?? 0);
    if (ms < LIFETIME_MIN_MS || ms > LIFETIME_MAX_MS) {
      return this.fail(e.at, e.path, `${amount}${unit} is out of range. Use a lifetime from 10m to 365d.`);
    }
    return ms;
  }

  private fail(at: Node, path: string, message: string): undefined {
    this.problems.add(at, path, message);
    return undefined;
  }
}
