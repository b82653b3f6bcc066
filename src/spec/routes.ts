/** `gateway.routes`: where the gateway sends each request. */
import { isScalar } from 'yaml';
import type { SpecContext } from './context.js';
import { isMissing } from './fields.js';
import { DEFAULTS, type Route } from './model.js';
import { describe, shown, type Entry } from './positions.js';
import type { RawRoute } from './raw.js';

export const ROUTE_KEYS = ['prefix', 'host', 'service', 'split', 'timeout', 'retries'] as const;

// A DNS name of LDH labels (RFC 1123), optionally a wildcard for the subdomains of one.
const HOST_NAME = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  return new RegExp(`^(?:\\*\\.)?${label}(?:\\.${label})*$`);
})();
const HOST_MAX = 253;
const ANY_HOST = '*';
const DURATION = /^([0-9]+)(ms|s|m)$/;
const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };
/**
 * The longest route timeout: what every hop after the gateway holds a request for (the sidecar's
 * inbound route and its upstream listeners, templates/sidecar-envoy.yaml.hbs, 15s). A longer one
 * would be a promise the sidecar breaks; the sidecars' timeout does not follow the routes, so that
 * a route change stays a file write that restarts no Envoy.
 */
export const ROUTE_TIMEOUT_MAX_MS = 15_000;
const RETRIES_MAX = 10;
const WEIGHT_MAX = 1000;
const ROUTES_MAX = 200;
/** The weight of a route's only service; weights are relative, so any value would do. */
const SOLE_WEIGHT = 100;

/** A route as far as it could be read: its host and prefix (for duplicates) even when the rest is wrong. */
interface RouteRead {
  readonly entry: Entry;
  /** Where a duplicate of an earlier route is reported: its prefix, else its host, else the route. */
  readonly where: Entry;
  readonly host?: string;
  readonly prefix?: string;
  readonly route?: RawRoute;
}

export function readRoutes(ctx: SpecContext, e: Entry): RawRoute[] | undefined {
  const items = ctx.problems.items(e.value, e.path);
  if (!items) return undefined;
  if (items.length === 0) {
    return ctx.fail(e.at, e.path, 'No routes are defined. Add at least one, e.g. routes: [{service: web}].');
  }
  if (items.length > ROUTES_MAX) {
    return ctx.fail(e.at, e.path, `${items.length} routes; a gateway may have at most ${ROUTES_MAX}. Merge routes with common prefixes.`);
  }
  const first = new Map<string, Entry>();
  const read = items.map((item) => readRoute(ctx, item));
  for (const { entry, where, host, prefix } of read) {
    if (host === undefined || prefix === undefined) continue;
    const id = JSON.stringify([host, prefix]);
    const earlier = first.get(id);
    if (!earlier) {
      first.set(id, entry);
      continue;
    }
    const line = ctx.problems.lineOf(earlier.at);
    ctx.fail(
      where.at,
      where.path,
      `Same host "${host}" and prefix "${prefix}" as ${earlier.path} (line ${line}), so this route could never match. Remove it or change its host or prefix.`,
    );
  }
  const routes = read.map((r) => r.route);
  return routes.every((r): r is RawRoute => r !== undefined) ? routes : undefined;
}

function readRoute(ctx: SpecContext, e: Entry): RouteRead {
  const fields = ctx.problems.entries(e.value, e.path, ROUTE_KEYS);
  if (!fields) return { entry: e, where: e };
  const f = fields.get;
  if (f.service && f.split) {
    const later = fields.list.indexOf(f.service) > fields.list.indexOf(f.split) ? f.service : f.split;
    ctx.fail(later.key, e.path, 'Has both service and split. Keep one: service sends every request to one service, split shares them out by weight.');
  } else if (isMissing(fields, 'service') && isMissing(fields, 'split')) {
    ctx.fail(e.at, e.path, 'Needs service (the service that takes the requests) or split (services and their weights). Add one of them.');
  }

  const host = f.host && routeHost(ctx, f.host);
  const prefix = f.prefix && ctx.urlPath(f.prefix.at, f.prefix.path, ctx.string(f.prefix), 'prefix');
  const service = f.service && ctx.serviceRef(f.service.at, f.service.path, ctx.string(f.service));
  const split = f.split && readSplit(ctx, f.split);
  const timeoutMs = f.timeout && duration(ctx, f.timeout);
  const retries = f.retries && ctx.bounded(f.retries, 'a number of retries', 0, RETRIES_MAX);

  const where = f.prefix ?? f.host ?? e;
  const backends = service !== undefined ? [{ service, weight: SOLE_WEIGHT }] : split;
  // Duplicates are about the effective host and prefix, defaults included.
  const effective = {
    host: f.host ? host : DEFAULTS.routeHost,
    prefix: f.prefix ? prefix : DEFAULTS.routePrefix,
  };
  if (
    effective.host === undefined ||
    effective.prefix === undefined ||
    backends === undefined ||
    (f.timeout && timeoutMs === undefined) ||
    (f.retries && retries === undefined)
  ) {
    return { entry: e, where, ...effective };
  }
  const route: RawRoute = {
    ...(host !== undefined && { host }),
    ...(prefix !== undefined && { prefix }),
    backends,
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(retries !== undefined && { retries }),
  };
  return { entry: e, where, ...effective, route };
}

function readSplit(ctx: SpecContext, e: Entry): Route['backends'] | undefined {
  const fields = ctx.problems.entries(e.value, e.path);
  if (!fields) return undefined;
  if (fields.list.length === 0) {
    return ctx.fail(e.at, e.path, 'Needs at least one service and its weight, e.g. split: {blog: 90, canary: 10}.');
  }
  const backends = fields.list.map((w) => ({
    service: ctx.serviceRef(w.key, w.path, w.name),
    weight: ctx.bounded(w, 'a weight', 0, WEIGHT_MAX),
  }));
  if (backends.every((b) => b.weight === 0)) {
    ctx.fail(e.at, e.path, 'The weights add up to 0, so no request could be sent anywhere. Give at least one service a weight above 0.');
  }
  return backends.every((b): b is { service: string; weight: number } => b.service !== undefined && b.weight !== undefined)
    ? backends
    : undefined;
}

function routeHost(ctx: SpecContext, e: Entry): string | undefined {
  const host = ctx.string(e);
  if (host === undefined || host === ANY_HOST) return host;
  if (host.length > HOST_MAX) {
    return ctx.fail(e.at, e.path, `The host is ${host.length} characters long; at most ${HOST_MAX} are allowed. Shorten it.`);
  }
  if (!HOST_NAME.test(host)) {
    return ctx.fail(e.at, e.path, `${shown(host)} is not a valid host. Write "*" for any host, a lowercase DNS name such as blog.example.com, or "*.example.com" for its subdomains.`);
  }
  return host;
}

function duration(ctx: SpecContext, e: Entry): number | undefined {
  const v = e.value;
  if (!isScalar(v) || typeof v.value !== 'string') {
    const fix = isScalar(v) && typeof v.value === 'bigint' ? ` Add a unit: ${v.source}s or ${v.source}ms.` : '';
    return ctx.fail(e.at, e.path, `Must be a duration such as 15s or 250ms, not ${describe(v)}.${fix}`);
  }
  const [, amount, unit] = DURATION.exec(v.value) ?? [];
  if (amount === undefined || unit === undefined) {
    return ctx.fail(e.at, e.path, `${shown(v.value)} is not a duration. Write an integer and a unit (ms, s or m), e.g. 250ms, 15s or 2m.`);
  }
  const ms = Number(amount) * (DURATION_UNIT_MS[unit] ?? 0);
  if (ms < 1) return ctx.fail(e.at, e.path, `${v.value} is out of range. Use a timeout from 1ms to 15s.`);
  if (ms > ROUTE_TIMEOUT_MAX_MS) {
    return ctx.fail(e.at, e.path, `${v.value} is out of range. Use a timeout from 1ms to 15s: each sidecar ends a request after 15s, so a longer timeout could not hold.`);
  }
  return ms;
}
