import { importCommonJs } from '../load-cjs.js';

/** The one place podvoy speaks HTTP: Envoy's admin API, readiness probes, and whether an ACME server answers. */

/** undici takes tens of ms to load: loaded at the first request, a route change writes its file first. */
let undici: Promise<typeof import('undici')> | undefined;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface HttpOptions {
  /** Speak HTTP over this unix socket instead of TCP (Envoy's admin socket). */
  readonly socketPath?: string;
  readonly timeoutMs?: number;
  /** Accept any TLS certificate (a gateway's self-signed one). */
  readonly insecure?: boolean;
  /** Trust only these CA certificates (PEM) for HTTPS. */
  readonly ca?: string;
  /** HTTPS with a client certificate (PEM), trusting only `ca`, and a server that must carry this URI SAN. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string; readonly serverUri: string };
}

/** GET a URL; network errors reject, any HTTP status resolves. */
export async function httpGet(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const timeout = options.timeoutMs ?? 2000;
  const { Agent, request } = await (undici ??= importCommonJs(() => import('undici')));
  const dispatcher = new Agent({
    connect: {
      timeout,
      ...(options.socketPath ? { socketPath: options.socketPath } : {}),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.tls ? tlsConnect(options.tls) : {}),
    },
    headersTimeout: timeout,
    bodyTimeout: timeout,
    pipelining: 0,
  });
  try {
    const res = await request(url, { method: 'GET', dispatcher });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } finally {
    await dispatcher.close();
  }
}

/** Mesh peers are known by their SPIFFE ID (a URI SAN), not a host name. */
function tlsConnect(tls: NonNullable<HttpOptions['tls']>) {
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, peer: { subjectaltname?: string }) =>
      (peer.subjectaltname ?? '').split(', ').includes(`URI:${tls.serverUri}`)
        ? undefined
        : new Error(`the peer's certificate is not ${tls.serverUri} (${peer.subjectaltname ?? 'no SAN'})`),
  };
}

/** GET a path of an Envoy admin API behind a unix socket. */
export async function adminGet(socketPath: string, path: string, timeoutMs = 2000): Promise<HttpResponse> {
  return httpGet(`http://localhost${path}`, { socketPath, timeoutMs });
}
