/**
 * The mesh's security: `mtls` at the top and `allow` per service. Validation only; whether
 * mTLS is on (by default in a mesh) is decided with the other defaults, in defaults.ts.
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
import { isMap, isScalar } from 'yaml';
import type { SpecContext } from './context.js';
import { describe, shown, type Entry } from './positions.js';
import type { RawMeshTls } from './raw.js';

export const MTLS_KEYS = ['ca', 'lifetime'] as const;
const CA_KEYS = ['cert', 'key'] as const;
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

/** A service's `allow`: names of services, or `gateway`. Kept in the context for {@link checkMeshSecurity}. */
export function readAllow(ctx: SpecContext, e: Entry, self: string): string[] | undefined {
  ctx.allows.push(e);
  const items = ctx.problems.items(e.value, e.path);
  if (!items) return undefined;
  const seen = new Set<string>();
  const names = items.map((item) => {
    const name = isScalar(item.value) && typeof item.value.value === 'string' ? item.value.value : undefined;
    if (name === undefined) return ctx.fail(item.at, item.path, `Must be a service name or gateway, not ${describe(item.value)}.`);
    if (seen.has(name)) return ctx.fail(item.at, item.path, `${shown(name)} is listed twice. Remove one.`);
    seen.add(name);
    if (name !== GATEWAY && ctx.serviceNames && !ctx.serviceNames.has(name)) {
      return ctx.fail(item.at, item.path, `No service ${shown(name)}. Allow gateway or one of: ${[...ctx.serviceNames].join(', ')}.`);
    }
    if (name === self) return ctx.fail(item.at, item.path, `A service does not call itself through its sidecar. Remove "${self}".`);
    return name;
  });
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

/** `mtls`: false, true, or its settings; undefined when wrong (reported). */
export function readMtls(ctx: SpecContext, e: Entry): RawMeshTls | false | undefined {
  if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value ? {} : false;
  if (!isMap(e.value)) return ctx.fail(e.at, e.path, `Must be true, false or a map (ca, lifetime), not ${describe(e.value)}.`);
  const fields = ctx.problems.entries(e.value, e.path, MTLS_KEYS);
  if (!fields) return undefined;
  const { ca: caEntry, lifetime: lifetimeEntry } = fields.get;
  const ca = caEntry && readCa(ctx, caEntry);
  const lifetimeMs = lifetimeEntry && readLifetime(ctx, lifetimeEntry);
  if ((caEntry && !ca) || (lifetimeEntry && lifetimeMs === undefined)) return undefined;
  return { ...(ca && { ca }), ...(lifetimeMs !== undefined && { lifetimeMs }) };
}

/** Checks `mtls` and every `allow` against the spec's shape, once the services and the gateway are read. */
export function checkMeshSecurity(ctx: SpecContext, e: Entry | undefined, mtls: RawMeshTls | false | undefined, shape: MeshShape): void {
  const mesh = shape.gateway || shape.upstreams;
  if (e && mtls !== false && mtls !== undefined && !mesh) {
    ctx.fail(e.key, e.path, 'mtls applies only to a mesh, whose Envoys call each other. Add a gateway or upstreams, or remove mtls.');
  }
  for (const allow of ctx.allows) {
    if (!mesh) {
      ctx.fail(allow.key, allow.path, 'allow applies only to a mesh. Add a gateway or upstreams, or remove allow.');
    } else if (mtls === false) {
      ctx.fail(allow.key, allow.path, 'allow is checked on certificates, and mtls is false. Remove mtls: false, or remove allow.');
    } else if (!shape.gateway) {
      for (const item of ctx.problems.items(allow.value, allow.path) ?? []) {
        if (isScalar(item.value) && item.value.value === GATEWAY) {
          ctx.fail(item.at, item.path, 'The spec has no gateway. Remove gateway from allow, or add a gateway.');
        }
      }
    }
  }
}

function readCa(ctx: SpecContext, e: Entry): RawMeshTls['ca'] {
  const fields = ctx.problems.entries(e.value, e.path, CA_KEYS);
  if (!fields) return undefined;
  if (!fields.get.cert && !fields.misspelt.has('cert')) {
    ctx.fail(e.at, e.path, 'Missing required key "cert". Add the CA certificate file (PEM), e.g. cert: ./ca/ca.pem.');
  }
  if (!fields.get.key && !fields.misspelt.has('key')) {
    ctx.fail(e.at, e.path, 'Missing required key "key". Add the CA private key file (PEM), e.g. key: ./ca/ca-key.pem.');
  }
  const cert = fields.get.cert && ctx.inSpecDir(fields.get.cert, 'file');
  const key = fields.get.key && ctx.inSpecDir(fields.get.key, 'file');
  return cert && key ? { cert, key } : undefined;
}

function readLifetime(ctx: SpecContext, e: Entry): number | undefined {
  const v = e.value;
  const [, amount, unit] = (isScalar(v) && typeof v.value === 'string' && LIFETIME.exec(v.value)) || [];
  if (amount === undefined || unit === undefined) {
    return ctx.fail(e.at, e.path, `Must be a lifetime such as 24h, 90m or 7d, not ${describe(v)}.`);
  }
  const ms = Number(amount) * (LIFETIME_UNIT_MS[unit] ?? 0);
  if (ms < LIFETIME_MIN_MS || ms > LIFETIME_MAX_MS) {
    return ctx.fail(e.at, e.path, `${amount}${unit} is out of range. Use a lifetime from 10m to 365d.`);
  }
  return ms;
}
