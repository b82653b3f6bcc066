import { GATEWAY_TLS, IN_POD } from '../mesh/contract.js';
import type { SdsFile } from '../mesh/identity.js';
import { watchedFile } from './watched-file.js';

/**
 * The gateway's certificate with ACME: an SDS file in its TLS directory names the certificate
 * and key files beside it, and Envoy reloads all three when a file is renamed into the
 * directory (https://www.envoyproxy.io/docs/envoy/latest/configuration/security/secret#key-rotation),
 * so a new certificate is served without a restart or a listener drain.
 */

/** Where HTTP-01 challenges are asked for (RFC 8555 section 8.3). */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** A pending HTTP-01 challenge: the token asked for, and the body that proves the account. */
export interface AcmeChallenge {
  readonly token: string;
  readonly keyAuthorization: string;
}

const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** The HTTPS listener's subscription to the gateway's certificate. */
export function gatewayCertificateSds(): object {
  return {
    name: GATEWAY_TLS.secret,
    sds_config: {
      resource_api_version: 'V3',
      path_config_source: { path: `${IN_POD.tlsDir}/${GATEWAY_TLS.sdsFile}`, watched_directory: { path: IN_POD.tlsDir } },
    },
  };
}

/** The SDS file naming the gateway's certificate and key by their file names in its TLS directory. */
export function renderGatewaySdsCertificate(files: { readonly cert: string; readonly key: string }): SdsFile {
  return watchedFile([
    {
      '@type': SECRET_TYPE,
      name: GATEWAY_TLS.secret,
      tls_certificate: {
        certificate_chain: { filename: `${IN_POD.tlsDir}/${files.cert}` },
        private_key: { filename: `${IN_POD.tlsDir}/${files.key}` },
      },
    },
  ]);
}
