/** `gateway`: the mesh's front Envoy, its host ports, TLS and routes. */
import type { SpecContext } from './context.js';
import { defaultAcmeDomains, domainProblem, readAcme } from './acme.js';
import { isMissing } from './fields.js';
import type { Entry } from './positions.js';
import type { RawAcme, RawGateway } from './raw.js';
import { readRoutes } from './routes.js';

export const GATEWAY_KEYS = ['http', 'https', 'tls', 'hsts', 'maxConnections', 'metrics', 'routes'] as const;
const TLS_KEYS = ['cert', 'key', 'acme'] as const;
const MAX_CONNECTIONS_MAX = 1_000_000;

export function readGateway(ctx: SpecContext, e: Entry): RawGateway | undefined {
  const fields = ctx.problems.entries(e.value, e.path, GATEWAY_KEYS);
  if (!fields) return undefined;
  const f = fields.get;
  if (isMissing(fields, 'http')) {
    ctx.fail(e.at, e.path, 'Missing required key "http". Add the host port for plain HTTP, e.g. http: 8080.');
  }
  if (isMissing(fields, 'routes')) {
    ctx.fail(e.at, e.path, 'Missing required key "routes". Add at least one route, e.g. routes: [{service: web}].');
  }
  for (const only of [f.tls, f.hsts]) {
    if (only && isMissing(fields, 'https')) {
      ctx.fail(only.key, only.path, `${only.name} applies only with https. Add https (e.g. https: 8443) or remove ${only.name}.`);
    }
  }

  const http = f.http && ctx.publish(f.http);
  const https = f.https && ctx.publish(f.https);
  if (http && f.http) ctx.claims.push({ publish: http, entry: f.http });
  if (https && f.https) ctx.claims.push({ publish: https, entry: f.https });
  const metrics = f.metrics && ctx.publish(f.metrics);
  if (metrics && f.metrics) ctx.claims.push({ publish: metrics, entry: f.metrics });
  const tls = f.tls && readTls(ctx, f.tls);
  const hsts = f.hsts && ctx.boolean(f.hsts);
  const routes = f.routes && readRoutes(ctx, f.routes);
  if (tls?.acme && !tls.acme.domains && routes && f.tls) checkAcmeRouteHosts(ctx, f.tls, routes.map((r) => r.host));
  const maxConnections = f.maxConnections && ctx.bounded(f.maxConnections, 'a number of connections', 1, MAX_CONNECTIONS_MAX);

  if (!http || !routes || (f.hsts && hsts === undefined) || (f.maxConnections && maxConnections === undefined) || (f.https && !https) || (f.metrics && !metrics) || (f.tls && !tls)) {
    return undefined;
  }
  return {
    http,
    ...(https && { https }),
    ...(metrics && { metrics }),
    ...(tls?.files && { tls: tls.files }),
    ...(tls?.acme && { acme: tls.acme }),
    ...(hsts !== undefined && { hsts }),
    ...(maxConnections !== undefined && { maxConnections }),
    routes,
  };
}

/** `tls`: the user's certificate and key files, or `acme`; never both. */
function readTls(ctx: SpecContext, e: Entry): { files?: { cert: string; key: string }; acme?: RawAcme } | undefined {
  const fields = ctx.problems.entries(e.value, e.path, TLS_KEYS);
  if (!fields) return undefined;
  if (fields.get.acme) {
    for (const file of [fields.get.cert, fields.get.key]) {
      if (file) ctx.fail(file.key, file.path, `${file.name} and acme exclude each other: acme obtains the certificate. Remove ${file.name}, or acme to serve your own files.`);
    }
    const acme = readAcme(ctx, fields.get.acme);
    return acme && !fields.get.cert && !fields.get.key ? { acme } : undefined;
  }
  if (isMissing(fields, 'cert')) {
    ctx.fail(e.at, e.path, 'Missing required key "cert". Add the certificate file (PEM), e.g. cert: ./tls/cert.pem, or acme for a certificate from Let\'s Encrypt.');
  }
  if (isMissing(fields, 'key')) {
    ctx.fail(e.at, e.path, 'Missing required key "key". Add the private key file (PEM), e.g. key: ./tls/key.pem.');
  }
  const cert = fields.get.cert && ctx.inSpecDir(fields.get.cert, 'file');
  const key = fields.get.key && ctx.inSpecDir(fields.get.key, 'file');
  if (cert) ctx.secrets.push({ path: cert, what: "the gateway's TLS certificate (gateway.tls.cert)" });
  if (key) ctx.secrets.push({ path: key, what: "the gateway's TLS key (gateway.tls.key)" });
  return cert && key ? { files: { cert, key } } : undefined;
}

/** Without `acme.domains`, the route hosts are the certificate's names: there must be one, and each must be provable. */
function checkAcmeRouteHosts(ctx: SpecContext, tls: Entry, hosts: readonly (string | undefined)[]): void {
  const path = `${tls.path}.acme`;
  const domains = defaultAcmeDomains(hosts);
  if (domains.length === 0) {
    ctx.fail(
      tls.at,
      path,
      'No domain for the certificate: no route names a host that is not a wildcard. Add domains under acme, e.g. domains: [blog.example.com], or give a route its host.',
    );
  }
  for (const domain of domains) {
    const problem = domainProblem(domain);
    if (problem) ctx.fail(tls.at, path, `The route host ${problem} List the certificate's names under acme.domains.`);
  }
}
