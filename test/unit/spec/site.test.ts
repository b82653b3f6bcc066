import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/errors.js';
import { DEFAULT_CACHE_RULES, type StaticApp } from '../../../src/spec/model.js';
import { parseSpec, type SpecHost } from '../../../src/spec/parse.js';

const FILE = 'blog/podvoy.yaml';
const DIR = '/srv/blog';

const host: SpecHost = {
  dir: DIR,
  absFile: `${DIR}/podvoy.yaml`,
  isDirectory: (p) => p === DIR || p === `${DIR}/site`,
  isFile: (p) => [`${DIR}/site/404.html`, `${DIR}/site/errors/missing.html`].includes(p),
  realpath: (p) => p,
};

/** A spec whose service `web` has the given lines under `site:`, from line 6 on. */
const withSite = (...lines: string[]): string =>
  ['name: blog', 'services:', '  web:', '    static: ./site', '    site:', ...lines.map((l) => `      ${l}`), ''].join('\n');

function siteOf(text: string): StaticApp['site'] {
  const app = parseSpec(text, FILE, host).services[0]!.app;
  if (app.kind !== 'static') throw new Error('expected a static app');
  return app.site;
}

function messagesOf(text: string): string[] {
  try {
    parseSpec(text, FILE, host);
  } catch (error) {
    if (error instanceof SpecError) return error.message.split('\n').slice(1).map((l) => l.trim());
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('services.<name>.site', () => {
  it('is left unset without the key (the renderers then use DEFAULT_SITE)', () => {
    const app = parseSpec('name: blog\nservices: {web: {static: ./site}}\n', FILE, host).services[0]!.app;
    expect(app).toEqual({ kind: 'static', root: `${DIR}/site`, port: 8080, proxy: [] });
  });

  it('reads every key, with the spec’s cache rules before the defaults', () => {
    expect(
      siteOf(
        withSite(
          'index: [home.html, index.htm]',
          'notFound: 404.html',
          'trailingSlash: remove',
          `csp: "default-src 'self'"`,
          'cache:',
          '- {prefix: /assets/, control: "public, max-age=31536000, immutable"}',
          '- {suffix: .pdf, control: no-store}',
        ),
      ),
    ).toEqual({
      index: ['home.html', 'index.htm'],
      notFound: '/404.html',
      trailingSlash: 'remove',
      csp: "default-src 'self'",
      cache: [
        { prefix: '/assets/', control: 'public, max-age=31536000, immutable' },
        { suffix: '.pdf', control: 'no-store' },
        ...DEFAULT_CACHE_RULES,
      ],
    });
  });

  it.each([
    ['an empty site', withSite().replace('    site:\n', '    site: {}\n'), { index: ['index.html'], trailingSlash: 'add', cache: DEFAULT_CACHE_RULES }],
    ['one index name as a string', withSite('index: default.htm'), { index: ['default.htm'], trailingSlash: 'add', cache: DEFAULT_CACHE_RULES }],
    ['a 404 page in a folder', withSite('notFound: ./errors/missing.html'), { index: ['index.html'], notFound: '/errors/missing.html', trailingSlash: 'add', cache: DEFAULT_CACHE_RULES }],
  ])('accepts %s', (_what, text, site) => {
    expect(siteOf(text)).toEqual(site);
  });

  it.each<[string, string, string[]]>([
    [
      'site on an image app',
      'name: blog\nservices:\n  web: {image: ghcr.io/x/y:1, port: 3000, site: {notFound: 404.html}}\n',
      ['blog/podvoy.yaml:3:43: services.web.site: site applies only to static sites. Remove it; an image app serves its own pages.'],
    ],
    [
      'an unknown key',
      withSite('notfound: 404.html'),
      ['blog/podvoy.yaml:6:7: services.web.site.notfound: Unknown key "notfound". Did you mean "notFound"?'],
    ],
    [
      'a 404 page that does not exist',
      withSite('notFound: missing.html'),
      ['blog/podvoy.yaml:6:17: services.web.site.notFound: missing.html does not exist in the site\'s folder /srv/blog/site. Create it or fix the path.'],
    ],
    [
      'a 404 page outside the site',
      withSite('notFound: ../podvoy.yaml'),
      ['blog/podvoy.yaml:6:17: services.web.site.notFound: "../podvoy.yaml" is not a page of the site. Name a file inside the site\'s folder, e.g. 404.html.'],
    ],
    [
      'a 404 page with a space',
      withSite('notFound: "not found.html"'),
      ['blog/podvoy.yaml:6:17: services.web.site.notFound: The page "not found.html" is not allowed here. Use only letters, digits and . _ ~ / -.'],
    ],
    [
      'an unknown trailingSlash',
      withSite('trailingSlash: keep'),
      ['blog/podvoy.yaml:6:22: services.web.site.trailingSlash: Must be add (/posts redirects to /posts/) or remove (/posts/ redirects to /posts), not the string "keep".'],
    ],
    [
      'an index name with a slash, and one that is a dotfile',
      withSite('index: [a/index.html, .hidden]'),
      [
        'blog/podvoy.yaml:6:15: services.web.site.index[0]: The index name "a/index.html" is not allowed here. Use only a file name of letters, digits and . _ ~ -, not starting with a dot.',
        'blog/podvoy.yaml:6:29: services.web.site.index[1]: The index name ".hidden" is not allowed here. Use only a file name of letters, digits and . _ ~ -, not starting with a dot.',
      ],
    ],
    ['no index names', withSite('index: []'), ['blog/podvoy.yaml:6:14: services.web.site.index: No index names. Add at least one, e.g. index: [index.html].']],
    [
      'a CSP with a double quote',
      withSite(`csp: 'default-src "self"'`),
      ['blog/podvoy.yaml:6:12: services.web.site.csp: The Content-Security-Policy "default-src \\"self\\"" is not allowed here. Use only printable ASCII without " or \\.'],
    ],
    [
      'cache rules that are wrong in every way',
      withSite(
        'cache:',
        '- {prefix: /a/, suffix: .b, control: no-cache}',
        '- {control: no-cache}',
        '- {suffix: .css}',
        '- {prefix: assets/, control: no-cache}',
        '- {suffix: .css, control: "max-age=$x"}',
      ),
      [
        'blog/podvoy.yaml:7:23: services.web.site.cache[0]: Has both prefix and suffix. Keep one; write two rules to match both.',
        'blog/podvoy.yaml:8:9: services.web.site.cache[1]: Needs prefix (e.g. /assets/) or suffix (e.g. .css): the paths the rule is for. Add one.',
        'blog/podvoy.yaml:9:9: services.web.site.cache[2]: Missing required key "control". Add the Cache-Control value, e.g. control: "public, max-age=3600".',
        'blog/podvoy.yaml:10:18: services.web.site.cache[3].prefix: The path prefix "assets/" does not start with "/". Write it as "/assets/".',
        'blog/podvoy.yaml:11:33: services.web.site.cache[4].control: The Cache-Control value "max-age=$x" is not allowed here. Use only letters, digits and = , - and spaces.',
      ],
    ],
  ])('rejects %s', (_what, text, messages) => {
    expect(messagesOf(text)).toEqual(messages);
  });
});
