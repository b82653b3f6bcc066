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

/** A sidecar's headers: the security headers, and the site's Content-Security-Policy when it has one. */
export function serviceHeaders(service: Pick<Service, 'app'>): EdgeHeader[] {
  const site = service.app.kind === 'static' ? (service.app.site ?? DEFAULT_SITE) : undefined;
  return [...SECURITY_HEADERS, ...(site?.csp ? [{ key: 'content-security-policy', value: site.csp }] : [])];
}
