// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CertificateError } from '../../errors.js';

/**
 * Certificates made with @peculiar/x509 on Node's WebCrypto: no ASN.1 of our own, no child
 * process per certificate, and exact validity times (the openssl CLI of Debian 12 sets them
 * only in whole days). Keys are ECDSA P-256; a user's CA may also be RSA or P-384.
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** A CA that signs: its certificate (PEM) and its private key, loaded for signing. */
export interface SigningCa {
  readonly cert: string;
  readonly key: CryptoKey;
  readonly algorithm: Algorithm & { hash?: string };
}

/** Clocks of two hosts disagree a little: a certificate is valid from a few minutes before it is made. */
const BACKDATE_MS = 5 * 60_000;

function serialNumber(): string {
  // Positive, 16 bytes: unique enough to tell two issuances apart on the wire.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f | 0x10;
  return bytes.toString('hex');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

/** A new self-signed root for a deployment's mesh, valid for ten years. */
export async function createCa(commonName: string, now = new Date()): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}, O=podvoy`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
    signingAlgorithm: EC_P256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKeyPem(keys.privateKey) };
}

/** Loads a CA's certificate and key (PEM, any form Node reads) for signing; refuses a pair that does not belong together. */
export async function loadCa(pair: KeyPair, where: string): Promise<SigningCa> {
  let certificate: X509Certificate;
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    certificate = new X509Certificate(pair.cert);
    keyObject = createPrivateKey(pair.key);
  } catch (error) {
    throw new CertificateError(`${where}: the CA certificate or key cannot be read (${(error as Error).message}). Give a PEM certificate and its PEM private key.`);
  }
  if (!certificate.ca) throw new CertificateError(`${where}: the certificate is not a CA (basicConstraints CA:TRUE). Give a CA certificate.`);
  if (!certificate.checkPrivateKey(keyObject)) throw new CertificateError(`${where}: the key does not belong to the CA certificate. Give the CA's own key.`);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const details = keyObject.asymmetricKeyDetails ?? {};
  let algorithm: SigningCa['algorithm'];
  if (keyObject.asymmetricKeyType === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) {
    const curve = details.namedCurve === 'prime256v1' ? 'P-256' : 'P-384';
    algorithm = { name: 'ECDSA', namedCurve: curve, hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' } as SigningCa['algorithm'];
  } else if (keyObject.asymmetricKeyType === 'rsa') {
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as SigningCa['algorithm'];
  } else {
    throw new CertificateError(`${where}: a ${keyObject.asymmetricKeyType} key cannot sign here. Use an ECDSA P-256 or P-384, or an RSA CA key.`);
  }
  const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  return { cert: pair.cert, key, algorithm };
}

/** What a leaf certificate says. */
export interface LeafRequest {
  readonly spiffeId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * A certificate for one identity, signed by the CA: the SPIFFE ID as its only URI SAN (what
 * peers check), for TLS clients and servers, with a fresh P-256 key.
 */
export async function issueLeaf(ca: SigningCa, request: LeafRequest): Promise<KeyPair & { serial: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const issuer = new x509.X509Certificate(ca.cert);
  const serial = serialNumber();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `O=podvoy`,
    issuer: issuer.subject,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    signingAlgorithm: ca.algorithm,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: request.spiffeId }], true),
      await x509.AuthorityKeyIdentifierExtension.create(issuer, false),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKeyPem(keys.privateKey), serial };
}

/** A leaf valid from now (minus the clock allowance) for `lifetimeMs`. */
export function leafValidity(now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + lifetimeMs) };
}
