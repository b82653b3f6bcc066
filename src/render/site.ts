import { DEFAULT_SITE, REVALIDATE, type CacheRule, type Site } from '../spec/model.js';

/**
 * A site's serving rules as nginx directives: the values templates/nginx.conf.hbs places. Every
 * value is built from the spec's small validated alphabets (no quote, space-free paths, no `$`),
 * so it stays inert inside a quoted nginx string.
 */
export interface NginxSite {
  /** The `index` directive's names, space-separated. */
  readonly index: string;
  /** The `try_files` arguments. */
  readonly tryFiles: string;
  /** trailingSlash: remove — a path ending in "/" (other than "/") redirects to the path without it. */
  readonly removeTrailingSlash: boolean;
  /** The page `error_page 404` serves, if the site has one. */
  readonly notFound: string | false;
  /** `map $uri $cache_control` entries in order: a regex and its Cache-Control. */
  readonly cache: readonly { readonly pattern: string; readonly control: string }[];
  /** Cache-Control of paths no rule matches. */
  readonly cacheDefault: string;
}

/** A regex matching `text` literally, for the alphabet of site paths (only `.` is special there). */
function literal(text: string): string {
  return text.replace(/\./g, '[.]');
}

function cachePattern(rule: CacheRule): string {
  return 'prefix' in rule ? `~^${literal(rule.prefix)}` : `~${literal(rule.suffix)}$`;
}

export function nginxSite(site: Site = DEFAULT_SITE): NginxSite {
  const remove = site.trailingSlash === 'remove';
  return {
    index: site.index.join(' '),
    // With `add`, nginx redirects a folder without its slash (relative, see absolute_redirect)
    // and then serves its index; with `remove`, the folder's index is served at the bare path.
    tryFiles: remove ? ['$uri', ...site.index.map((name) => `$uri/${name}`), '=404'].join(' ') : '$uri $uri/ =404',
    removeTrailingSlash: remove,
    notFound: site.notFound ?? false,
    cache: site.cache.map((rule) => ({ pattern: cachePattern(rule), control: rule.control })),
    cacheDefault: REVALIDATE,
  };
}
