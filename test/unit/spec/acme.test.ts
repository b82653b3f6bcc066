import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/errors.js';
import { LETS_ENCRYPT_DIRECTORY } from '../../../src/spec/model.js';
import { parseSpec, type SpecHost } from '../../../src/spec/parse.js';

const FILE = 'blog/podvoy.yaml';
const DIR = '/srv/blog';

const host: SpecHost = {
  dir: DIR,
  absFile: `${DIR}/podvoy.yaml`,
  isDirectory: (p) => p === DIR || p === `${DIR}/site`,
  isFile: (p) => p.startsWith(`${DIR}/tls/`),
  realpath: (p) => p,
};

/** A blog whose gateway has `tls:` with the given lines from line 7 on, and routes for `hosts`. */
const withTls = (lines: readonly string[], hosts: readonly string[] = ['blog.example.com', '*']): string =>
  [
    'name: blog',
    'services: {web: {static: ./site}}',
    'gateway:',
    '  http: 8080',
    '  https: 8443',
    '  tls:',
    ...lines.map((l) => `    ${l}`),
    '  routes:',
    ...hosts.map((h) => `  - {host: "${h}", service: web}`),
    '',
  ].join('\n');

function messagesOf(text: string): string[] {
  try {
    parseSpec(text, FILE, host);
  } catch (error) {
    if (error instanceof SpecError) return error.message.split('\n').slice(1).map((l) => l.trim());
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('gateway.tls.acme', () => {
  it('defaults to Let’s Encrypt and to the route hosts that are not wildcards', () => {
    const spec = parseSpec(withTls(['acme: {email: ops@example.com}'], ['blog.example.com', '*.example.com', 'www.example.com', '*']), FILE, host);
    expect(spec.gateway?.acme).toEqual({
      email: 'ops@example.com',
      directory: LETS_ENCRYPT_DIRECTORY.production,
      domains: ['blog.example.com', 'www.example.com'],
    });
    expect(spec.gateway?.tls).toBeUndefined();
  });

  it('takes a directory and domains as given', () => {
    const spec = parseSpec(
      withTls(['acme:', '  email: ops@example.com', `  directory: ${LETS_ENCRYPT_DIRECTORY.staging}`, '  domains: [a.example.com, b.example.com]']),
      FILE,
      host,
    );
    expect(spec.gateway?.acme).toEqual({ email: 'ops@example.com', directory: LETS_ENCRYPT_DIRECTORY.staging, domains: ['a.example.com', 'b.example.com'] });
  });

  it.each([
    [
      'a wildcard domain',
      ['acme: {email: ops@example.com, domains: ["*.example.com"]}'],
      [
        `${FILE}:7:46: gateway.tls.acme.domains[0]: "*.example.com" is a wildcard: HTTP-01, the challenge the gateway answers, cannot prove one (Let's Encrypt asks DNS-01 for wildcards). Name each host, e.g. "www.example.com", or bring the certificate with tls.cert and tls.key.`,
      ],
    ],
    [
      'an IP address',
      ['acme: {email: ops@example.com, domains: [192.0.2.7]}'],
      [
        `${FILE}:7:46: gateway.tls.acme.domains[0]: "192.0.2.7" is an IP address: HTTP-01 proves domain names only, and public ACME servers issue none for addresses. Name a domain that points at this host.`,
      ],
    ],
    [
      'cert and key beside acme',
      ['cert: ./tls/cert.pem', 'key: ./tls/key.pem', 'acme: {email: ops@example.com}'],
      [
        `${FILE}:7:5: gateway.tls.cert: cert and acme exclude each other: acme obtains the certificate. Remove cert, or acme to serve your own files.`,
        `${FILE}:8:5: gateway.tls.key: key and acme exclude each other: acme obtains the certificate. Remove key, or acme to serve your own files.`,
      ],
    ],
    [
      'no email, an http directory, a domain twice',
      ['acme: {directory: "http://acme.example.com/dir", domains: [a.example.com, a.example.com]}'],
      [
        `${FILE}:7:11: gateway.tls.acme: Missing required key "email". Add the address the ACME server writes to about this account, e.g. email: you@example.com.`,
        `${FILE}:7:23: gateway.tls.acme.directory: "http://acme.example.com/dir" is not an https URL. Name an ACME directory, e.g. ${LETS_ENCRYPT_DIRECTORY.staging} (Let's Encrypt's staging), or remove directory for Let's Encrypt.`,
        `${FILE}:7:79: gateway.tls.acme.domains[1]: "a.example.com" is listed twice. Remove one.`,
      ],
    ],
    [
      'a bad email and an unknown key',
      ['acme: {email: "not mail", server: x}'],
      [
        `${FILE}:7:19: gateway.tls.acme.email: "not mail" is not an email address. Write one such as you@example.com.`,
        `${FILE}:7:31: gateway.tls.acme.server: Unknown key "server". Remove it; the keys allowed here are email, directory, domains.`,
      ],
    ],
  ])('refuses %s', (_, lines, expected) => {
    expect(messagesOf(withTls(lines))).toEqual(expected);
  });

  it('refuses a spec whose routes name no host to certify', () => {
    expect(messagesOf(withTls(['acme: {email: ops@example.com}'], ['*.example.com', '*']))).toEqual([
      `${FILE}:7:5: gateway.tls.acme: No domain for the certificate: no route names a host that is not a wildcard. Add domains under acme, e.g. domains: [blog.example.com], or give a route its host.`,
    ]);
  });
});
