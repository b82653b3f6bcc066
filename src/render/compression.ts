/** Both encoders' level: brotli quality 4, gzip level 4 (why: COMPRESSION.compressors). */
const LEVEL = 4;
/** Brotli's window, 2^18 bytes (256 KiB). */
const BROTLI_WINDOW_BITS = 18;

/**
 * How a service's answers are compressed. One place decides it for every service, static or
 * app, in both shapes (a published sidecar is the edge; behind the gateway each answer is
 * compressed once in the service's pod and the gateway passes it on). A static site whose nginx
 * has the brotli modules is compressed by nginx, at the same levels, sizes and types: the
 * sidecar's two compressor filters cost it about 4-6 µs of CPU per request even when nothing
 * is compressed (bench/README.md). Everything else is compressed by the sidecar.
 * Measured in bench/compression.ts.
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
        quality: LEVEL,
        window_bits: BROTLI_WINDOW_BITS,
      },
    },
    {
      filter: 'envoy.filters.http.compressor.gzip',
      library: 'gzip',
      first: false,
      config: {
        '@type': 'type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip',
        compression_level: `COMPRESSION_LEVEL_${LEVEL}`,
        memory_level: 8,
        window_bits: 15,
      },
    },
  ],
} as const;

/** nginx's settings when it compresses a static site: COMPRESSION's, in nginx's terms. */
export const NGINX_COMPRESSION = {
  gzipLevel: LEVEL,
  /**
   * One below the sidecar's: Debian's libbrotli (1.0.9) took about 1.3 ms of CPU at quality 4
   * for a 100 KiB page where Envoy's (1.1) took 0.9 ms; at 3 it takes what Envoy's 4 does, for
   * 1-10 % more bytes, by page (bench/README.md).
   */
  brotliLevel: LEVEL - 1,
  brotliWindow: `${2 ** BROTLI_WINDOW_BITS / 1024}k`,
  minBytes: COMPRESSION.minBytes,
  // nginx always compresses text/html, and warns when it is listed.
  types: COMPRESSION.types.filter((t) => t !== 'text/html'),
} as const;
