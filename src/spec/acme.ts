/** `gateway.tls.acme`: certificates from an ACME server (Let's Encrypt), proved by HTTP-01 at the gateway. */
import { isIP } from 'node:net';
import type { SpecContext } from './context.js';
import { isMissing } from './fields.js';
import { LETS_ENCRYPT_DIRECTORY } from './model.js';
import { shown, type Entry } from './positions.js';
import type { RawAcme } from './raw.js';

export const ACME_KEYS = ['email', 'directory', 'domains'] as const;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const DOMAIN_MAX = 253;
// A certificate names at most 100 domains at Let's Encrypt.
const DOMAINS_MAX = 100;
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
const EMAIL_MAX = 254;
const URL_MAX = 500;

export function readAcme(ctx: SpecContext, e: Entry): RawAcme | undefined {
  const fields = ctx.problems.entries(e.value, e.path, ACME_KEYS);
  if (!fields) return undefined;
  const f = fields.get;
  if (isMissing(fields, 'email')) {
    ctx.fail(e.at, e.path, 'Missing required key "email". Add the address the ACME server writes to about this account, e.g. email: you@example.com.');
  }
  const email = f.email && readEmail(ctx, f.email);
  const directory = f.directory && readDirectory(ctx, f.directory);
  const domains = f.domains && readDomains(ctx, f.domains);
  if (!email || (f.directory && !directory) || (f.domains && !domains)) return undefined;
  return { email, ...(directory && { directory }), ...(domains && { domains }) };
}

function readEmail(ctx: SpecContext, e: Entry): string | undefined {
  const text = ctx.string(e);
  if (text === undefined) return undefined;
  if (text.length > EMAIL_MAX || !EMAIL.test(text)) {
    return ctx.fail(e.at, e.path, `${shown(text)} is not an email address. Write one such as you@example.com.`);
  }
  return text;
}

function readDirectory(ctx: SpecContext, e: Entry): string | undefined {
  const text = ctx.string(e);
  if (text === undefined) return undefined;
  const url = text.length <= URL_MAX ? parseUrl(text) : undefined;
  // RFC 8555 section 6.1: an ACME server is reached over HTTPS only.
  if (!url || url.protocol !== 'https:' || url.username || url.password || /[\s"'\\]/.test(text)) {
    return ctx.fail(
      e.at,
      e.path,
      `${shown(text)} is not an https URL. Name an ACME directory, e.g. ${LETS_ENCRYPT_DIRECTORY.staging} (Let's Encrypt's staging), or remove directory for Let's Encrypt.`,
    );
  }
  return text;
}

function readDomains(ctx: SpecContext, e: Entry): string[] | undefined {
  const items = ctx.problems.items(e.value, e.path);
  if (!items) return undefined;
  if (items.length === 0) return ctx.fail(e.at, e.path, 'No domains. Name at least one, e.g. domains: [blog.example.com], or remove domains to use the route hosts.');
  if (items.length > DOMAINS_MAX) return ctx.fail(e.at, e.path, `${items.length} domains; a certificate names at most ${DOMAINS_MAX}. Split them.`);
  const domains: string[] = [];
  for (const item of items) {
    const text = ctx.string(item);
    if (text === undefined) continue;
    const problem = domainProblem(text);
    if (problem) {
      ctx.fail(item.at, item.path, problem);
      continue;
    }
    if (domains.includes(text)) {
      ctx.fail(item.at, item.path, `${shown(text)} is listed twice. Remove one.`);
      continue;
    }
    domains.push(text);
  }
  return domains.length === items.length ? domains : undefined;
}

/** Why a name cannot be in a certificate proved by HTTP-01, or undefined when it can. */
export function domainProblem(text: string): string | undefined {
  if (text.startsWith('*.')) {
    return `${shown(text)} is a wildcard: HTTP-01, the challenge the gateway answers, cannot prove one (Let's Encrypt asks DNS-01 for wildcards). Name each host, e.g. ${shown(`www.${text.slice(2)}`)}, or bring the certificate with tls.cert and tls.key.`;
  }
  if (isIP(text.replace(/^\[|\]$/g, ''))) {
    return `${shown(text)} is an IP address: HTTP-01 proves domain names only, and public ACME servers issue none for addresses. Name a domain that points at this host.`;
  }
  if (text.length > DOMAIN_MAX || !DOMAIN.test(text)) {
    return `${shown(text)} is not a domain name. Write one in lowercase, e.g. blog.example.com.`;
  }
  return undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The names a certificate carries when the spec lists none: the route hosts, less `*` and wildcards, in spec order. */
export function defaultAcmeDomains(hosts: readonly (string | undefined)[]): string[] {
  return [...new Set(hosts.filter((h): h is string => h !== undefined && !h.includes('*')))];
}
