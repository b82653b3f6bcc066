/**
 * When the gateway's ACME certificate is renewed: once a third of its lifetime is left, as
 * Let's Encrypt advises (https://letsencrypt.org/docs/integration-guide/#when-to-renew), and
 * after a failure not before a backoff that doubles from a minute to a day. Pure.
 */

const BACKOFF_MIN_MS = 60_000;
const BACKOFF_MAX_MS = 24 * 3_600_000;

/** The certificate podvoy obtained last, as recorded. */
export interface AcmeCertificateRecord {
  readonly serial: string;
  readonly issuer: string;
  readonly domains: readonly string[];
  /** ISO dates. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** File names in the gateway's TLS directory. */
  readonly cert: string;
  readonly key: string;
}

/** The last time podvoy asked the ACME server, and how it went. */
export interface AcmeAttempt {
  readonly at: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** What podvoy keeps about a gateway's ACME certificate (root-only, in the spec's state directory). */
export interface AcmeRecord {
  readonly directory: string;
  readonly certificate?: AcmeCertificateRecord;
  readonly lastAttempt?: AcmeAttempt;
  /** Failed attempts in a row. */
  readonly failures: number;
  /** With failures: not before this ISO date, unless forced. */
  readonly retryAfter?: string;
}

/** When a certificate is renewed: two thirds into its lifetime. */
export function renewAfter(certificate: Pick<AcmeCertificateRecord, 'notBefore' | 'notAfter'>): Date {
  const from = Date.parse(certificate.notBefore);
  return new Date(from + ((Date.parse(certificate.notAfter) - from) * 2) / 3);
}

export type AcmeDecision = { readonly order: false; readonly why: 'current' | 'backoff' } | { readonly order: true; readonly why: 'missing' | 'changed' | 'due' | 'forced' };

/** Whether to order a certificate now for these settings. */
export function decideOrder(record: AcmeRecord | undefined, want: { directory: string; domains: readonly string[] }, now: Date, force = false): AcmeDecision {
  if (force) return { order: true, why: 'forced' };
  const current = record?.certificate;
  const sameNames = current && record.directory === want.directory && sameSet(current.domains, want.domains);
  // A missing or outdated certificate is asked for at every play; backoff spares a server only
  // renewals of a certificate that still serves.
  if (!current) return { order: true, why: 'missing' };
  if (!sameNames) return { order: true, why: 'changed' };
  if (now < renewAfter(current)) return { order: false, why: 'current' };
  if (record.retryAfter && now < new Date(record.retryAfter)) return { order: false, why: 'backoff' };
  return { order: true, why: 'due' };
}

/** The record after an attempt: a success resets the backoff, a failure doubles it. */
export function recordAttempt(record: AcmeRecord | undefined, directory: string, now: Date, outcome: { certificate: AcmeCertificateRecord } | { error: string }): AcmeRecord {
  if ('certificate' in outcome) {
    return { directory, certificate: outcome.certificate, lastAttempt: { at: now.toISOString(), ok: true }, failures: 0 };
  }
  const failures = (record?.failures ?? 0) + 1;
  const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
  return {
    directory: record?.directory ?? directory,
    ...(record?.certificate && { certificate: record.certificate }),
    lastAttempt: { at: now.toISOString(), ok: false, error: outcome.error },
    failures,
    retryAfter: new Date(now.getTime() + wait).toISOString(),
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
