/**
 * How sidecars compress what they serve. One place decides it for every service, static or
 * app, in both shapes (a published sidecar is the edge; behind the gateway it compresses once
 * per answer and the gateway passes it on). Measured in bench/compression.ts.
 */
export const COMPRESSION = {
  /** Smaller bodies are sent as they are: the framing would eat the gain. */
  minBytes: 256,
  /** Text types (parameters such as `; charset=utf-8` do not matter); images and archives are already compressed. */
  types: [
    'text/html',
    'text/css',
    'text/plain',
    'text/xml',
    'text/javascript',
    'application/javascript',
    'application/json',
    'application/xml',
    'application/atom+xml',
    'application/rss+xml',
    'application/manifest+json',
    'application/xhtml+xml',
    'image/svg+xml',
  ],
  /**
   * In order of preference: brotli when the client's Accept-Encoding ranks it as high as gzip
   * (`choose_first`), else gzip. Both at a middle level (brotli 4, gzip 4 with a 32 KiB window):
   * every answer is compressed anew, and on a 100 KiB page gzip's default level 6 took about
   * twice the CPU of level 4 for a tenth fewer bytes (bench/README.md).
   * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/compressor_filter
   */
  compressors: [
    {
      filter: 'envoy.filters.http.compressor.brotli',
      library: 'brotli',
      first: true,
      config: {
        '@type': 'type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli',
        quality: 4,
        window_bits: 18,
      },
    },
    {
      filter: 'envoy.filters.http.compressor.gzip',
      library: 'gzip',
      first: false,
      config: {
        '@type': 'type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip',
        compression_level: 'COMPRESSION_LEVEL_4',
        memory_level: 8,
        window_bits: 15,
      },
    },
  ],
} as const;
