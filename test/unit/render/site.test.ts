import { describe, expect, it } from 'vitest';
import { serviceHeaders, SECURITY_HEADERS } from '../../../src/render/edge-headers.js';
import { nginxSite } from '../../../src/render/site.js';
import { DEFAULT_SITE } from '../../../src/spec/model.js';

describe('nginxSite', () => {
  it('serves folders with a trailing slash and revalidates pages by default', () => {
    const site = nginxSite();
    expect(site).toMatchObject({ index: 'index.html', tryFiles: '$uri $uri/ =404', removeTrailingSlash: false, notFound: false, cacheDefault: 'no-cache' });
    expect(site.cache.slice(0, 2)).toEqual([
      { pattern: '~[.]html$', control: 'no-cache' },
      { pattern: '~[.]css$', control: 'public, max-age=86400' },
    ]);
  });

  it('serves each index name at the bare path when trailing slashes are removed', () => {
    expect(nginxSite({ ...DEFAULT_SITE, index: ['home.html', 'index.html'], trailingSlash: 'remove', notFound: '/404.html' })).toMatchObject({
      index: 'home.html index.html',
      tryFiles: '$uri $uri/home.html $uri/index.html =404',
      removeTrailingSlash: true,
      notFound: '/404.html',
    });
  });

  it.each([
    [{ prefix: '/assets/', control: 'x' }, '~^/assets/'],
    [{ prefix: '/v1.2/', control: 'x' }, '~^/v1[.]2/'],
    [{ suffix: '.tar.gz', control: 'x' }, '~[.]tar[.]gz$'],
    [{ suffix: '/feed.xml', control: 'x' }, '~/feed[.]xml$'],
  ])('matches %o literally with %s', (rule, pattern) => {
    expect(nginxSite({ ...DEFAULT_SITE, cache: [rule] }).cache).toEqual([{ pattern, control: 'x' }]);
  });
});

describe('serviceHeaders', () => {
  it('adds the site’s CSP to the security headers', () => {
    const app = { kind: 'static', root: '/s', port: 8080, proxy: [], site: { ...DEFAULT_SITE, csp: "default-src 'self'" } } as const;
    expect(serviceHeaders({ app })).toEqual([...SECURITY_HEADERS, { key: 'content-security-policy', value: "default-src 'self'" }]);
  });

  it.each([
    ['a static site without a site key', { kind: 'static', root: '/s', port: 8080, proxy: [] } as const],
    ['an app', { kind: 'image', image: 'x', port: 3000, env: {} } as const],
  ])('sends only the security headers for %s', (_what, app) => {
    expect(serviceHeaders({ app })).toEqual(SECURITY_HEADERS);
    expect(SECURITY_HEADERS.map((h) => h.key)).toEqual(['x-content-type-options', 'referrer-policy', 'x-frame-options']);
  });
});
