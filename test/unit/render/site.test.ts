import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { serviceHeaders, SECURITY_HEADERS } from '../../../src/render/edge-headers.js';
import { planDeployment } from '../../../src/render/deployment.js';
import { nginxSite } from '../../../src/render/site.js';
import { DEFAULT_SITE } from '../../../src/spec/model.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { fakeHost } from '../../support/fake-host.js';
import { readTemplateSources } from '../../../src/pipeline.js';

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

describe('a site in the rendered pod', () => {
  it('keeps every character of the CSP inside its header value, and the nginx rules inert', async () => {
    const csp = "default-src 'self'; img-src * data: blob:; report-uri /csp#x {a} [b] & *c | >d %e @f `g` $uri";
    const text = [
      'name: blog',
      'services:',
      '  web:',
      '    static: ./site',
      `    site: {csp: ${JSON.stringify(csp)}, cache: [{suffix: .tar.gz, control: "public, max-age=60"}], notFound: e/404.html, trailingSlash: remove}`,
      '',
    ].join('\n');
    const spec = parseSpec(text, 'podvoy.yaml', fakeHost('/srv/blog'));
    const sources = await readTemplateSources();
    const images = { nginx: 'n', envoy: 'e' };
    const pod = planDeployment(spec, { images, roots: { stateDir: '/s', runDir: '/r' }, templates: sources }).pods[0]!.rendered;
    // A static site's headers come from nginx; the sidecar adds none of its own.
    expect(pod.envoyYaml).not.toContain('response_headers_to_add');
    // `$` would name an nginx variable: it is spelled through one that holds a dollar sign.
    const literal = csp.replace('$uri', '${podvoy_dollar}uri');
    expect(pod.nginxConf).toContain(`    map $upstream_http_content_security_policy $podvoy_header_content_security_policy {\n        "" ${JSON.stringify(literal)};\n`);
    for (const { key } of [...SECURITY_HEADERS, { key: 'content-security-policy' }]) {
      expect(pod.nginxConf).toContain(`        add_header ${key} $podvoy_header_${key.replaceAll('-', '_')} always;\n`);
    }
    expect(pod.nginxConf).toContain('        "~[.]tar[.]gz$" "public, max-age=60";\n');
    expect(pod.nginxConf).toContain('        error_page 404 /e/404.html;\n');
    // No redirect for a path with a backslash or a control character, which browsers read as //.
    expect(pod.nginxConf).toContain('            rewrite "^(/[^\\x00-\\x1f\\x5c\\x7f]+)/$" $1 permanent;\n');
    expect(pod.nginxConf).toContain('            try_files $uri $uri/index.html =404;\n');
  });
});
