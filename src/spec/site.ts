/**
 * Reads `services.<name>.site`: how a static site is served. Pure, like the rest of the parser;
 * the one file-system question (does the 404 page exist) goes through {@link SiteHost}.
 *
 * ```yaml
 * site:                        # optional, static sites only
 *   index: [index.html]        # optional: file names tried in a folder, in order (a name or a list)
 *   notFound: 404.html         # optional: a page of the site, answered with status 404
 *   trailingSlash: add         # optional: add (default) redirects /posts to /posts/; remove, /posts/ to /posts
 *   csp: "default-src 'self'"  # optional: the Content-Security-Policy of every answer
 *   cache:                     # optional: Cache-Control by path; the first rule that matches wins,
 *   - prefix: /assets/         #   and these come before the defaults (HTML revalidated, assets a day)
 *     control: "public, max-age=31536000, immutable"
 *   - suffix: .pdf
 *     control: "public, max-age=3600"
 * ```
 */
import path from 'node:path';
import { isScalar, isSeq, type Node } from 'yaml';
import { DEFAULT_CACHE_RULES, DEFAULT_SITE, type CacheRule, type Site } from './model.js';
import { describe, shown, type Entry, type Problems } from './positions.js';

/** What reading a site needs from the file system. */
export interface SiteHost {
  /** Whether a regular file (or a symlink to one) exists at the path. */
  isFile(absPath: string): boolean;
}

export const SITE_KEYS = ['index', 'notFound', 'trailingSlash', 'csp', 'cache'] as const;
const CACHE_RULE_KEYS = ['prefix', 'suffix', 'control'] as const;

// Values reach nginx's config (index names, paths, Cache-Control) and Envoy's (the CSP): small
// alphabets keep them inert in both.
const FILE_NAME = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;
const SITE_PATH = /^[A-Za-z0-9._~/-]+$/;
const CACHE_CONTROL = /^[A-Za-z0-9=, -]+$/;
const CSP = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;
const INDEX_MAX = 10;
const RULES_MAX = 50;
const TEXT_MAX = 200;
const CSP_MAX = 2000;

/**
 * The `site` key of a service whose site directory is `root` (undefined: not a static service,
 * or its directory is wrong). Reports every problem; returns undefined if there was one.
 */
export function readSite(problems: Problems, e: Entry, root: string | undefined, host: SiteHost, isStatic: boolean): Site | undefined {
  const fail = (at: Node, where: string, message: string): undefined => {
    problems.add(at, where, message);
    return undefined;
  };
  if (!isStatic) return fail(e.key, e.path, 'site applies only to static sites. Remove it; an image app serves its own pages.');
  const fields = problems.entries(e.value, e.path, SITE_KEYS);
  if (!fields) return undefined;
  const f = fields.get;
  const before = problems.count;

  const text = (x: Entry, what: string, pattern: RegExp, allowed: string, max = TEXT_MAX): string | undefined => {
    if (!isScalar(x.value) || typeof x.value.value !== 'string') return fail(x.at, x.path, `Must be a string, not ${describe(x.value)}.`);
    const value = x.value.value;
    if (value.length > max) return fail(x.at, x.path, `The ${what} is ${value.length} characters long; at most ${max} are allowed. Shorten it.`);
    if (!pattern.test(value)) return fail(x.at, x.path, `The ${what} ${shown(value)} is not allowed here. Use only ${allowed}.`);
    return value;
  };

  const indexEntries = f.index && (isSeq(f.index.value) ? problems.items(f.index.value, f.index.path) : [f.index]);
  if (f.index && indexEntries?.length === 0) fail(f.index.at, f.index.path, 'No index names. Add at least one, e.g. index: [index.html].');
  if (f.index && indexEntries && indexEntries.length > INDEX_MAX) {
    fail(f.index.at, f.index.path, `${indexEntries.length} index names; at most ${INDEX_MAX} are allowed. Keep the ones the site uses.`);
  }
  const index = indexEntries?.map((i) => text(i, 'index name', FILE_NAME, 'a file name of letters, digits and . _ ~ -, not starting with a dot'));

  const notFound = f.notFound && pagePath(f.notFound);
  const trailingSlash = f.trailingSlash && slashMode(f.trailingSlash);
  const csp = f.csp && text(f.csp, 'Content-Security-Policy', CSP, 'printable ASCII without " or \\', CSP_MAX);
  const cache = f.cache && cacheRules(f.cache);

  if (problems.count > before) return undefined;
  return {
    index: index?.filter((name): name is string => name !== undefined) ?? DEFAULT_SITE.index,
    ...(notFound && { notFound }),
    trailingSlash: trailingSlash ?? DEFAULT_SITE.trailingSlash,
    cache: [...(cache ?? []), ...DEFAULT_CACHE_RULES],
    ...(csp && { csp }),
  };

  function slashMode(x: Entry): Site['trailingSlash'] | undefined {
    const mode = isScalar(x.value) ? x.value.value : undefined;
    if (mode === 'add' || mode === 'remove') return mode;
    return fail(x.at, x.path, `Must be add (/posts redirects to /posts/) or remove (/posts/ redirects to /posts), not ${describe(x.value)}.`);
  }

  /** A page of the site as the path nginx serves it from, e.g. `/404.html`. */
  function pagePath(x: Entry): string | undefined {
    const given = text(x, 'page', SITE_PATH, 'letters, digits and . _ ~ / -');
    if (given === undefined) return undefined;
    const page = path.posix.normalize(`/${given}`);
    if (page.split('/').some((part) => part.startsWith('.')) || given.includes('..')) {
      return fail(x.at, x.path, `${shown(given)} is not a page of the site. Name a file inside the site's folder, e.g. 404.html.`);
    }
    if (root !== undefined && !host.isFile(path.join(root, page))) {
      return fail(x.at, x.path, `${given} does not exist in the site's folder ${root}. Create it or fix the path.`);
    }
    return page;
  }

  function cacheRules(x: Entry): CacheRule[] | undefined {
    const items = problems.items(x.value, x.path);
    if (!items) return undefined;
    if (items.length > RULES_MAX) return fail(x.at, x.path, `${items.length} cache rules; at most ${RULES_MAX} are allowed. Merge rules by prefix.`);
    const rules = items.map((item): CacheRule | undefined => {
      const r = problems.entries(item.value, item.path, CACHE_RULE_KEYS);
      if (!r) return undefined;
      const { prefix, suffix, control } = r.get;
      if (prefix && suffix) return fail(suffix.key, item.path, 'Has both prefix and suffix. Keep one; write two rules to match both.');
      if (!prefix && !suffix) return fail(item.at, item.path, 'Needs prefix (e.g. /assets/) or suffix (e.g. .css): the paths the rule is for. Add one.');
      if (!control) return fail(item.at, item.path, 'Missing required key "control". Add the Cache-Control value, e.g. control: "public, max-age=3600".');
      const value = text(control, 'Cache-Control value', CACHE_CONTROL, 'letters, digits and = , - and spaces');
      const match = prefix
        ? text(prefix, 'path prefix', SITE_PATH, 'letters, digits and . _ ~ / -')
        : text(suffix!, 'path suffix', SITE_PATH, 'letters, digits and . _ ~ / -');
      if (prefix && match !== undefined && !match.startsWith('/')) {
        return fail(prefix.at, prefix.path, `The path prefix ${shown(match)} does not start with "/". Write it as ${shown(`/${match}`)}.`);
      }
      if (value === undefined || match === undefined) return undefined;
      return prefix ? { prefix: match, control: value } : { suffix: match, control: value };
    });
    return rules.every((rule): rule is CacheRule => rule !== undefined) ? rules : undefined;
  }
}
