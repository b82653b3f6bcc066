import { describe, expect, it } from 'vitest';
import { decideOrder, recordAttempt, renewAfter, type AcmeRecord } from '../../../../src/engine/acme/renewal.js';

const DIRECTORY = 'https://acme.example/directory';
const DOMAINS = ['blog.example.com', 'www.example.com'];
const certificate = {
  serial: '0a',
  issuer: 'Test CA',
  domains: DOMAINS,
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-04-01T00:00:00.000Z',
  cert: 'acme-0a.pem',
  key: 'acme-0a-key.pem',
};
const issued: AcmeRecord = { directory: DIRECTORY, certificate, failures: 0 };
const at = (iso: string) => new Date(iso);

describe('the ACME renewal schedule', () => {
  it('renews two thirds into the lifetime (90 days: after 60)', () => {
    expect(renewAfter(certificate).toISOString()).toBe('2026-03-02T00:00:00.000Z');
  });

  it.each([
    ['no record', undefined, '2026-01-02T00:00:00Z', false, { order: true, why: 'missing' }],
    ['a fresh certificate', issued, '2026-02-01T00:00:00Z', false, { order: false, why: 'current' }],
    ['a certificate past two thirds', issued, '2026-03-03T00:00:00Z', false, { order: true, why: 'due' }],
    ['other domains', { ...issued, certificate: { ...certificate, domains: ['blog.example.com'] } }, '2026-01-02T00:00:00Z', false, { order: true, why: 'changed' }],
    ['another directory', { ...issued, directory: 'https://other.example/dir' }, '2026-01-02T00:00:00Z', false, { order: true, why: 'changed' }],
    ['a due renewal in backoff', { ...issued, failures: 1, retryAfter: '2026-03-03T00:01:00Z' }, '2026-03-03T00:00:30Z', false, { order: false, why: 'backoff' }],
    ['a due renewal past its backoff', { ...issued, failures: 1, retryAfter: '2026-03-03T00:01:00Z' }, '2026-03-03T00:01:00Z', false, { order: true, why: 'due' }],
    ['force, whatever the rest', { ...issued, failures: 3, retryAfter: '2026-12-01T00:00:00Z' }, '2026-01-02T00:00:00Z', true, { order: true, why: 'forced' }],
  ] as const)('with %s decides %j', (_, record, now, force, expected) => {
    expect(decideOrder(record, { directory: DIRECTORY, domains: DOMAINS }, at(now), force)).toEqual(expected);
  });

  it('doubles the backoff after each failure, from a minute to at most a day, and keeps the certificate', () => {
    let record: AcmeRecord | undefined = issued;
    const waits: number[] = [];
    const now = at('2026-03-03T00:00:00Z');
    for (let i = 0; i < 13; i++) {
      record = recordAttempt(record, DIRECTORY, now, { error: 'refused' });
      waits.push((Date.parse(record.retryAfter!) - now.getTime()) / 60_000);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1440, 1440]);
    expect(record).toMatchObject({ certificate, failures: 13, lastAttempt: { at: now.toISOString(), ok: false, error: 'refused' } });
  });

  it('resets the backoff on success', () => {
    const failed = recordAttempt(issued, DIRECTORY, at('2026-03-03T00:00:00Z'), { error: 'refused' });
    const next = { ...certificate, serial: '0b' };
    expect(recordAttempt(failed, DIRECTORY, at('2026-03-03T00:05:00Z'), { certificate: next })).toEqual({
      directory: DIRECTORY,
      certificate: next,
      lastAttempt: { at: '2026-03-03T00:05:00.000Z', ok: true },
      failures: 0,
    });
  });
});
