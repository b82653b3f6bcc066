import { IN_POD } from '../mesh/contract.js';
import { SDS_FILES, SDS_SECRETS, spiffeId, type SdsFile, type SdsRenderer } from '../mesh/identity.js';
import { watchedFile } from './watched-file.js';

/**
 * The Envoy side of the mesh's mTLS, as xDS objects: transport sockets that take their
 * certificate and trust bundle from SDS files in the Envoy's watched identity directory
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/security/secret#key-rotation),
 * and the SDS files themselves. Nothing here holds key material: only file names.
 */

const TYPES = {
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
} as const;

/** An SDS subscription to one file of the identity directory, reloaded when a file is renamed into it. */
function sdsConfig(file: string): object {
  return {
    resource_api_version: 'V3',
    path_config_source: { path: `${IN_POD.meshTlsDir}/${file}`, watched_directory: { path: IN_POD.meshTlsDir } },
  };
}

/** The certificate and trust bundle of every mesh Envoy, with the peer's SPIFFE ID checked by `san`. */
function commonTlsContext(san: object, alpn: readonly string[]): object {
  return {
    alpn_protocols: alpn,
    // Envoy's clients stop at TLS 1.2 unless told: both ends speak 1.3 only.
    tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
    tls_certificate_sds_secret_configs: [{ name: SDS_SECRETS.certificate, sds_config: sdsConfig(SDS_FILES.certificate) }],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: san }] },
      validation_context_sds_secret_config: { name: SDS_SECRETS.trust, sds_config: sdsConfig(SDS_FILES.trust) },
    },
  };
}

/**
 * How a caller (the gateway or a sidecar) reaches a service's sidecars: over TLS 1.3 with its own
 * certificate, trusting only a certificate that carries that service's SPIFFE ID.
 */
export function upstreamTransportSocket(specName: string, service: string): object {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': TYPES.upstreamTls,
      common_tls_context: commonTlsContext({ exact: spiffeId(specName, service) }, ['h2']),
    },
  };
}

/** Both SDS renderers, as the engine's pki takes them. */
export const SDS_RENDERER: SdsRenderer = {
  certificate: (files: { readonly cert: string; readonly key: string }): SdsFile => renderSdsCertificate(files),
  trust: (bundle: string): SdsFile => renderSdsTrust(bundle),
};

function sdsFile(secret: object): SdsFile {
  return watchedFile([{ '@type': TYPES.secret, ...secret }]);
}

/** The SDS file naming an identity's certificate and key, by their file names in the directory. */
export function renderSdsCertificate(files: { readonly cert: string; readonly key: string }): SdsFile {
  return sdsFile({
    name: SDS_SECRETS.certificate,
    tls_certificate: {
      certificate_chain: { filename: `${IN_POD.meshTlsDir}/${files.cert}` },
      private_key: { filename: `${IN_POD.meshTlsDir}/${files.key}` },
    },
  });
}

/** The SDS file naming the trust bundle: the mesh's CA, and during a CA rotation the one before. */
export function renderSdsTrust(bundle: string): SdsFile {
  return sdsFile({ name: SDS_SECRETS.trust, validation_context: { trusted_ca: { filename: `${IN_POD.meshTlsDir}/${bundle}` } } });
}
