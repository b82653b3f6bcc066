import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { play } from '../../src/index.js';
import { nginxHasBrotli } from '../../src/mesh/contract.js';
import { resolveImages } from '../../src/engine/podman/images.js';
import { podman } from '../../src/engine/podman/podman.js';
import { freePort, uniqueName, workspace, type Workspace } from '../support/e2e.js';

/** The gateway's certificate is self-signed: the tests trust it by not verifying it. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

async function send(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<Answer> {
  const res = await request(url, { method, headers, dispatcher: insecure });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

const header = (a: Answer, name: string): string | undefined => {
  const value = a.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

const BIG_BYTES = 32 * 1024 * 1024;
const CUSTOM_CACHE = 'public, max-age=31536000, immutable';
/** Files every shape's site gets on top of the example's: odd names, a folder, a large page and file. */
const EXTRA = {
  unicode: { file: 'files/naïve café.txt', url: '/files/na%C3%AFve%20caf%C3%A9.txt' },
  folder: { dir: 'posts/2026', url: '/posts/2026' },
  spaceFolder: { dir: 'über uns', url: '/%C3%BCber%20uns' },
  page: { file: 'page-100k.html', url: '/page-100k.html' },
  precompressed: { file: 'pre-100k.html', url: '/pre-100k.html' },
  big: { file: 'big.bin', url: '/big.bin' },
  asset: { file: 'assets/app.css', url: '/assets/app.css' },
} as const;

/** A 100 KiB HTML page that compresses like real prose does (not like one repeated line). */
function pageOf100KiB(): string {
  const words = ['pod', 'sidecar', 'envoy', 'nginx', 'runc', 'mesh', 'gateway', 'static', 'cache', 'brotli', 'route', 'health'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let body = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Long read</title></head><body>\n';
  while (body.length < 100 * 1024 - 40) {
    const sentence = Array.from({ length: 12 }, () => words[next() % words.length]).join(' ');
    body += `<p>${sentence} ${next() % 10000}.</p>\n`;
  }
  return `${body.slice(0, 100 * 1024 - 15)}</body></html>\n`;
}

async function addFiles(siteDir: string): Promise<{ big: string }> {
  const write = async (rel: string, data: string | Buffer) => {
    await mkdir(path.dirname(path.join(siteDir, rel)), { recursive: true });
    await writeFile(path.join(siteDir, rel), data);
  };
  await write(EXTRA.unicode.file, 'naïve café\n');
  await write(`${EXTRA.folder.dir}/index.html`, '<!doctype html><title>2026</title><p>Posts of 2026</p>\n');
  await write(`${EXTRA.spaceFolder.dir}/index.html`, '<!doctype html><title>Über uns</title><p>Wir</p>\n');
  await write(EXTRA.page.file, pageOf100KiB());
  await write(EXTRA.precompressed.file, pageOf100KiB());
  await write(`${EXTRA.precompressed.file}.gz`, gzipSync(pageOf100KiB(), { level: 9 }));
  await write(`${EXTRA.precompressed.file}.br`, brotliCompressSync(pageOf100KiB()));
  await write(EXTRA.asset.file, 'body { color: black; }\n');
  const big = randomBytes(BIG_BYTES);
  await write(EXTRA.big.file, big);
  return { big: createHash('sha256').update(big).digest('hex') };
}

/**
 * What a visitor sees of compression, whoever compresses: nginx when its image has the brotli
 * modules (podvoy's own build), else the sidecar. Only a file compressed ahead of time tells
 * them apart: nginx sends a .br beside the page as it is.
 */
function compressionCases(url: (p: string) => string, file: (rel: string) => Promise<Buffer>, compressor: 'nginx' | 'sidecar', example: 'blog' | 'mesh'): void {
  it.each([
    ['br', 'gzip, deflate, br', (b: Buffer) => brotliDecompressSync(b)],
    ['gzip', 'gzip, deflate', (b: Buffer) => gunzipSync(b)],
    ['br', 'br;q=1, gzip;q=0.5', (b: Buffer) => brotliDecompressSync(b)],
  ])('sends %s for Accept-Encoding: %s, with Vary and a weak ETag', async (encoding, accept, decode) => {
    const res = await send(url(EXTRA.page.url), { 'accept-encoding': accept });
    expect(res.status).toBe(200);
    expect(header(res, 'content-encoding')).toBe(encoding);
    expect(header(res, 'vary')?.toLowerCase()).toContain('accept-encoding');
    expect(header(res, 'etag')).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.body.length).toBeLessThan(40 * 1024);
    expect(decode(res.body)).toEqual(await file(EXTRA.page.file));
  });

  it('sends the file as it is, with Vary, to a client that accepts no encoding', async () => {
    const res = await send(url(EXTRA.page.url));
    expect(header(res, 'content-encoding')).toBeUndefined();
    expect(header(res, 'vary')?.toLowerCase()).toContain('accept-encoding');
    expect(header(res, 'etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.body).toEqual(await file(EXTRA.page.file));
  });

  it(`sends a .gz file beside the page as it is, and brotli ${compressor === 'nginx' ? 'from the .br file beside it' : 'made by the sidecar'}`, async () => {
    const gz = await file(`${EXTRA.precompressed.file}.gz`);
    const res = await send(url(EXTRA.precompressed.url), { 'accept-encoding': 'gzip' });
    expect(header(res, 'content-encoding')).toBe('gzip');
    expect(header(res, 'content-length')).toBe(String(gz.length));
    expect(header(res, 'vary')).toBe('Accept-Encoding');
    expect(res.body).toEqual(gz);
    const br = await send(url(EXTRA.precompressed.url), { 'accept-encoding': 'br' });
    expect(header(br, 'content-encoding')).toBe('br');
    expect(brotliDecompressSync(br.body)).toEqual(await file(EXTRA.precompressed.file));
    // The .br file is made at the highest quality, which the sidecar's quality 4 never matches.
    expect(br.body.equals(await file(`${EXTRA.precompressed.file}.br`))).toBe(compressor === 'nginx');
  });

  it('does not compress images', async () => {
    const res = await send(url('/img/' + (example === 'blog' ? 'pods.png' : 'mesh.png')), { 'accept-encoding': 'gzip, br' });
    expect(res.status).toBe(200);
    expect(header(res, 'content-encoding')).toBeUndefined();
    expect(res.body).toEqual(await file(`img/${example === 'blog' ? 'pods.png' : 'mesh.png'}`));
  });

  it('answers a range with the file’s own bytes, never compressed', async () => {
    const res = await send(url(EXTRA.page.url), { 'accept-encoding': 'gzip, br', range: 'bytes=1000-1999' });
    expect(res.status).toBe(206);
    expect(header(res, 'content-encoding')).toBeUndefined();
    expect(header(res, 'content-range')).toBe(`bytes 1000-1999/${100 * 1024}`);
    expect(res.body).toEqual((await file(EXTRA.page.file)).subarray(1000, 2000));
  });

  it('revalidates a compressed page with its weak ETag: 304', async () => {
    const first = await send(url(EXTRA.page.url), { 'accept-encoding': 'br' });
    const again = await send(url(EXTRA.page.url), { 'accept-encoding': 'br', 'if-none-match': header(first, 'etag')! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });
}

interface Shape {
  readonly name: string;
  /** Base URL the visitor uses, ending in "/". */
  base: string;
  /** The site's directory in the workspace. */
  siteDir: string;
  bigHash: string;
  csp: string;
}

/**
 * Each point of serving a site, on both shapes: one published sidecar (plain HTTP, the sidecar is
 * the edge) and a mesh entered through the gateway over TLS.
 */
describe.each(['blog', 'mesh'] as const)('a site served by the %s example', (example) => {
  let ws: Workspace;
  const shape = {} as Shape;
  let httpPort = 0;

  beforeAll(async () => {
    ws = await workspace(example);
    const name = uniqueName(example === 'blog' ? 'site' : 'sitem');
    const spec = await readFile(path.join(ws.dir, 'podvoy.yaml'), 'utf8');
    const cacheRule = `      cache: [{prefix: /assets/, control: "${CUSTOM_CACHE}"}]\n`;
    shape.siteDir = path.join(ws.dir, example === 'blog' ? 'site' : 'blog');
    shape.csp = /csp: "(.*)"/.exec(spec)![1]!;
    shape.bigHash = (await addFiles(shape.siteDir)).big;
    let text = spec.replace(/^name: .*$/m, `name: ${name}`).replace(/( {6}csp: .*\n)/, `$1${cacheRule}`);
    if (example === 'blog') {
      const port = await freePort();
      text = text.replace('publish: 8080', `publish: ${port}`);
      shape.base = `http://127.0.0.1:${port}/`;
    } else {
      httpPort = await freePort();
      const https = await freePort();
      text = text.replace('http: 8081', `http: ${httpPort}`).replace('https: 8443', `https: ${https}`);
      // The API shows the other trailing-slash rule and index names, through the gateway.
      text = text.replace('    static: ./api\n', '    static: ./api\n    site: {trailingSlash: remove, index: [home.html, index.html]}\n');
      await mkdir(path.join(ws.dir, 'api/api/docs'), { recursive: true });
      await writeFile(path.join(ws.dir, 'api/api/docs/home.html'), '<!doctype html><title>API docs</title>\n');
      shape.base = `https://127.0.0.1:${https}/`;
    }
    expect(text).toContain(CUSTOM_CACHE);
    const file = await ws.writeSpec(text);
    await play(file, { roots: ws.roots });
  });
  afterAll(async () => ws?.cleanup());

  const url = (p: string) => new URL(p, shape.base).toString();
  const file = (rel: string) => readFile(path.join(shape.siteDir, rel));

  describe('redirects keep the visitor’s scheme, host and port', () => {
    it.each([
      [EXTRA.folder.url, `${EXTRA.folder.url}/`],
      [`${EXTRA.folder.url}?page=2`, `${EXTRA.folder.url}/?page=2`],
      [EXTRA.spaceFolder.url, `${EXTRA.spaceFolder.url}/`],
      ['/posts', '/posts/'],
    ])('%s redirects to %s, relative to the address used', async (from, to) => {
      const res = await send(url(from));
      expect(res.status).toBe(301);
      expect(header(res, 'location')).toBe(to);
      expect(new URL(header(res, 'location')!, url(from)).toString()).toBe(url(to));
      const followed = await send(url(to));
      expect(followed.status).toBe(200);
    });

    it('keeps the host name the visitor used', async () => {
      const viaName = url(EXTRA.folder.url).replace('127.0.0.1', 'localhost');
      const res = await send(viaName);
      expect(res.status).toBe(301);
      expect(new URL(header(res, 'location')!, viaName).toString()).toBe(`${viaName}/`);
    });

    // Only the mesh has a plain-HTTP listener that redirects, and the API service that removes slashes.
    if (example === 'mesh') {
      it('sends plain HTTP to HTTPS on the same host, then to the folder', async () => {
        const plain = `http://localhost:${httpPort}${EXTRA.folder.url}`;
        const first = await send(plain);
        expect(first.status).toBe(301);
        const secure = header(first, 'location')!;
        expect(secure).toBe(url(EXTRA.folder.url).replace('127.0.0.1', 'localhost'));
        const second = await send(secure);
        expect(second.status).toBe(301);
        expect(new URL(header(second, 'location')!, secure).toString()).toBe(`${secure}/`);
      });

      it('with trailingSlash: remove, serves the folder’s index at the bare path', async () => {
        const bare = await send(url('/api/docs'));
        expect(bare.status).toBe(200);
        expect(bare.body.toString()).toBe('<!doctype html><title>API docs</title>\n');
        const slashed = await send(url('/api/docs/?v=1'));
        expect(slashed.status).toBe(301);
        expect(header(slashed, 'location')).toBe('/api/docs?v=1');
      });
    }
  });

  describe('compression, by nginx', () => compressionCases(url, file, 'nginx', example));

  describe('caching', () => {
    it.each([
      ['/', 'no-cache'],
      [example === 'blog' ? '/posts/hello.html' : '/posts/mesh.html', 'no-cache'],
      ['/css/style.css', 'public, max-age=86400'],
      ['/feed.xml', 'no-cache'],
      [EXTRA.asset.url, CUSTOM_CACHE],
    ])('%s: Cache-Control %s, with ETag and Last-Modified', async (p, control) => {
      const res = await send(url(p));
      expect(res.status).toBe(200);
      expect(header(res, 'cache-control')).toBe(control);
      expect(header(res, 'etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      expect(new Date(header(res, 'last-modified')!).getTime()).toBeGreaterThan(0);
    });

    it('answers conditional requests with 304, by ETag and by date', async () => {
      const first = await send(url('/css/style.css'));
      const byTag = await send(url('/css/style.css'), { 'if-none-match': header(first, 'etag')! });
      expect(byTag.status).toBe(304);
      expect(header(byTag, 'etag')).toBe(header(first, 'etag'));
      const byDate = await send(url('/css/style.css'), { 'if-modified-since': header(first, 'last-modified')! });
      expect(byDate.status).toBe(304);
      const stale = await send(url('/css/style.css'), { 'if-none-match': '"0-0"' });
      expect(stale.status).toBe(200);
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const head = await send(url('/css/style.css'), {}, 'HEAD');
      expect(head.status).toBe(200);
      expect(header(head, 'content-length')).toBe(String((await file('css/style.css')).length));
      expect(header(head, 'content-type')).toBe('text/css');
      expect(header(head, 'cache-control')).toBe('public, max-age=86400');
      expect(head.body.length).toBe(0);
    });
  });

  describe('files and pages', () => {
    it('serves a file with a percent-encoded unicode and space name', async () => {
      const res = await send(url(EXTRA.unicode.url));
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('naïve café\n');
    });

    it('serves a 32 MiB file whole, and any range of it', async () => {
      const res = await request(url(EXTRA.big.url), { dispatcher: insecure, headers: { 'accept-encoding': 'gzip, br' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(BIG_BYTES));
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      expect(bytes).toBe(BIG_BYTES);
      expect(hash.digest('hex')).toBe(shape.bigHash);
      const tail = await send(url(EXTRA.big.url), { range: 'bytes=-16' });
      expect(tail.status).toBe(206);
      expect(header(tail, 'content-range')).toBe(`bytes ${BIG_BYTES - 16}-${BIG_BYTES - 1}/${BIG_BYTES}`);
      expect(tail.body).toEqual((await file(EXTRA.big.file)).subarray(BIG_BYTES - 16));
    });

    it.each(['/no/such/page', '/.git/config', '/posts/missing.html'])('answers %s with the site’s own 404 page', async (p) => {
      const res = await send(url(p));
      expect(res.status).toBe(404);
      expect(header(res, 'content-type')).toBe('text/html');
      expect(res.body).toEqual(await file('404.html'));
      expect(header(res, 'x-content-type-options')).toBe('nosniff');
    });
  });

  describe('security headers', () => {
    it.each(['/', '/css/style.css', '/no/such/page', EXTRA.folder.url])('%s carries each once, and the spec’s CSP', async (p) => {
      const res = await send(url(p));
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toBe(shape.csp);
      if (example === 'mesh') expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    });

    it('names no version in any header', async () => {
      for (const p of ['/', '/no/such/page', EXTRA.folder.url, '/css/style.css']) {
        const res = await send(url(p), { 'accept-encoding': 'gzip' });
        expect(res.headers.server).toBe('envoy');
        expect(res.headers['x-powered-by']).toBeUndefined();
        for (const [name, value] of Object.entries(res.headers)) {
          expect(`${name}: ${String(value)}`).not.toMatch(/nginx|envoy\/|\/\d+\.\d+/i);
        }
      }
    });
  });
});

/**
 * The third way in: a gateway with plain HTTP only, whose routes pass nginx's redirects on as
 * they are; its site removes trailing slashes.
 */
describe('a site that removes trailing slashes, behind a gateway on plain HTTP', () => {
  let ws: Workspace;
  let base: string;

  beforeAll(async () => {
    ws = await workspace('mesh');
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    await mkdir(path.join(ws.dir, 'blog', EXTRA.folder.dir), { recursive: true });
    await writeFile(path.join(ws.dir, 'blog', EXTRA.folder.dir, 'index.html'), '<!doctype html><title>2026</title>\n');
    const spec = [
      `name: ${uniqueName('siteh')}`,
      `gateway: {http: ${port}, routes: [{service: blog}]}`,
      'services:',
      '  blog:',
      '    static: ./blog',
      '    site: {notFound: 404.html, trailingSlash: remove}',
      '',
    ].join('\n');
    await play(await ws.writeSpec(spec), { roots: ws.roots });
  });
  afterAll(async () => ws?.cleanup());

  it.each(['127.0.0.1', 'localhost'])('redirects a path with a trailing slash on %s, keeping the address', async (host) => {
    const from = new URL(`${EXTRA.folder.url}/?page=2`, base.replace('127.0.0.1', host)).toString();
    const res = await send(from);
    expect(res.status).toBe(301);
    expect(header(res, 'location')).toBe(`${EXTRA.folder.url}?page=2`);
    expect(new URL(header(res, 'location')!, from).toString()).toBe(from.replace('/?', '?'));
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    const page = await send(new URL(header(res, 'location')!, from).toString());
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('<!doctype html><title>2026</title>\n');
  });

  it.each(['/%5Cevil.example/', '/%09/evil.example/'])('does not turn %s into a redirect to another site', async (p) => {
    const res = await send(new URL(p, base).toString());
    expect(res.status).not.toBe(301);
    expect(header(res, 'location')).toBeUndefined();
  });

  it('compresses through the gateway and answers 404 with the site’s page', async () => {
    const page = await send(new URL('/', base).toString(), { 'accept-encoding': 'gzip' });
    expect(header(page, 'content-encoding')).toBe('gzip');
    expect(gunzipSync(page.body)).toEqual(await readFile(path.join(ws.dir, 'blog/index.html')));
    const missing = await send(new URL('/missing', base).toString());
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(await readFile(path.join(ws.dir, 'blog/404.html')));
  });
});

/**
 * A site whose nginx image has no brotli modules (the official image, or a build on a host
 * without them) is compressed by its sidecar instead, and looks the same to a visitor.
 */
describe('a site whose nginx has no brotli modules', () => {
  const plainNginx = 'localhost/podvoy-test/nginx:no-brotli';
  let ws: Workspace | undefined;
  let siteDir = '';
  let base = '';
  let tagged = false;

  beforeAll(async () => {
    const { nginx } = await resolveImages({});
    expect(nginxHasBrotli(nginx)).toBe(true);
    await podman(['tag', nginx, plainNginx]);
    tagged = true;
    ws = await workspace('blog');
    siteDir = path.join(ws.dir, 'site');
    await addFiles(siteDir);
    const port = await freePort();
    const spec = await readFile(path.join(ws.dir, 'podvoy.yaml'), 'utf8');
    const text = spec
      .replace(/^name: .*$/m, `name: ${uniqueName('siten')}\nimages:\n  nginx: ${plainNginx}`)
      .replace('publish: 8080', `publish: ${port}`);
    await play(await ws.writeSpec(text), { roots: ws.roots });
    base = `http://127.0.0.1:${port}/`;
  });
  afterAll(async () => {
    await ws?.cleanup();
    if (tagged) await podman(['untag', plainNginx, plainNginx]); // without a name, untag removes every name the image has
  });

  compressionCases((p) => new URL(p, base).toString(), (rel) => readFile(path.join(siteDir, rel)), 'sidecar', 'blog');
});
