import { DEFAULT_SITE, type Service } from '../spec/model.js';

/** A response header an Envoy adds when the app (or the Envoy behind it) did not set it. */
export interface EdgeHeader {
  readonly key: string;
  readonly value: string;
}

/**
 * What every answer that leaves podvoy carries unless the app chose otherwise: the browser
 * does not guess content types, sends only the origin to other sites, and renders no page of
 * the site inside a frame. https://owasp.org/www-project-secure-headers/
 */
export const SECURITY_HEADERS: readonly EdgeHeader[] = [
  { key: 'x-content-type-options', value: 'nosniff' },
  { key: 'referrer-policy', value: 'strict-origin-when-cross-origin' },
  { key: 'x-frame-options', value: 'DENY' },
];

/** A service's headers: the security headers, and the site's Content-Security-Policy when it has one. */
export function serviceHeaders(service: Pick<Service, 'app'>): EdgeHeader[] {
  const site = service.app.kind === 'static' ? (service.app.site ?? DEFAULT_SITE) : undefined;
  return [...SECURITY_HEADERS, ...(site?.csp ? [{ key: 'content-security-policy', value: site.csp }] : [])];
}

/** A header as nginx adds it: a value that is empty when the proxied answer already has the header. */
export interface NginxHeader extends EdgeHeader {
  /** The map's result, named after the header: `$podvoy_header_x_frame_options`. */
  readonly variable: string;
  /** The proxied answer's own header, if any: `$upstream_http_x_frame_options`. */
  readonly upstream: string;
  /** The value with every `$` written as `${podvoy_dollar}`: nginx reads `$` as a variable. */
  readonly literal: string;
}

/**
 * Who adds a service's headers. For a static site, nginx does: its add_header costs a fraction
 * of the sidecar's response_headers_to_add per answer (about 5 µs of Envoy's CPU per request,
 * measured on copies of a sidecar's configuration). An app from an image gets them from its sidecar.
 */
export function headersBy(service: Pick<Service, 'app'>): { sidecar: EdgeHeader[]; nginx: NginxHeader[] } {
  const headers = serviceHeaders(service);
  if (service.app.kind !== 'static') return { sidecar: headers, nginx: [] };
  const name = (key: string) => key.replaceAll('-', '_');
  return {
    sidecar: [],
    nginx: headers.map((h) => ({
      ...h,
      variable: `podvoy_header_${name(h.key)}`,
      upstream: `upstream_http_${name(h.key)}`,
      literal: h.value.replaceAll('$', '${podvoy_dollar}'),
    })),
  };
}
