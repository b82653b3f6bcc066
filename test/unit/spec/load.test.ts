import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpecError, SpecFileError } from '../../../src/errors.js';
import { loadSpec } from '../../../src/spec/load.js';

let dir: string;

beforeEach(async () => {
  // realpath: os.tmpdir() may itself be a symlink (macOS), and Spec.root is a real path.
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'podvoy-load-')));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BLOG = 'name: blog\nservices:\n  web:\n    static: ./site\n    sidecar: {publish: 8080}\n';
const MESH = [
  'name: shop',
  'gateway:',
  '  http: 8080',
  '  https: 8443',
  '  tls: {cert: ./tls/cert.pem, key: ./tls/key.pem}',
  '  routes: [{service: web}]',
  'services:',
  '  web: {static: ./site}',
  '',
].join('\n');

describe('loadSpec', () => {
  it('loads a spec and resolves its site against the spec folder', async () => {
    await mkdir(path.join(dir, 'site'));
    await writeFile(path.join(dir, 'podvoy.yaml'), BLOG);
    const spec = await loadSpec(path.join(dir, 'podvoy.yaml'));
    expect(spec).toEqual({
      name: 'blog',
      file: path.join(dir, 'podvoy.yaml'),
      dir,
      images: {},
      services: [
        {
          name: 'web',
          app: { kind: 'static', root: path.join(dir, 'site'), port: 8080, proxy: [] },
          sidecar: { port: 10000, publish: { hostIP: '127.0.0.1', hostPort: 8080 } },
          upstreams: [],
          health: '/',
          replicas: 1,
        },
      ],
    });
  });

  it('refuses a site that is a symlink out of the spec folder', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'podvoy-outside-'));
    try {
      await symlink(outside, path.join(dir, 'site'));
      await writeFile(path.join(dir, 'podvoy.yaml'), BLOG);
      const error = await loadSpec(path.join(dir, 'podvoy.yaml')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).problems.map((p) => [p.line, p.column, p.path])).toEqual([[4, 13, 'services.web.static']]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reads a gateway certificate and key from files in the spec folder, as real paths', async () => {
    await mkdir(path.join(dir, 'site'));
    await mkdir(path.join(dir, 'tls'));
    await writeFile(path.join(dir, 'tls', 'cert.pem'), '-----BEGIN CERTIFICATE-----\n');
    await writeFile(path.join(dir, 'tls', 'key-v2.pem'), '-----BEGIN PRIVATE KEY-----\n');
    await symlink('key-v2.pem', path.join(dir, 'tls', 'key.pem'));
    await writeFile(path.join(dir, 'podvoy.yaml'), MESH);
    const spec = await loadSpec(path.join(dir, 'podvoy.yaml'));
    expect(spec.gateway?.tls).toEqual({ cert: path.join(dir, 'tls', 'cert.pem'), key: path.join(dir, 'tls', 'key-v2.pem') });
  });

  it('refuses a certificate that is missing or a directory', async () => {
    await mkdir(path.join(dir, 'site'));
    await mkdir(path.join(dir, 'tls', 'cert.pem'), { recursive: true });
    await writeFile(path.join(dir, 'podvoy.yaml'), MESH);
    const error = await loadSpec(path.join(dir, 'podvoy.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).problems.map((p) => [p.line, p.column, p.path, p.message])).toEqual([
      [5, 15, 'gateway.tls.cert', './tls/cert.pem does not exist or is not a file. Create it or fix the path.'],
      [5, 36, 'gateway.tls.key', './tls/key.pem does not exist or is not a file. Create it or fix the path.'],
    ]);
  });

  it.each<[string, (dir: string) => Promise<string>, string]>([
    ['a missing file', async (d) => path.join(d, 'nope.yaml'), 'no such file'],
    ['a directory', async (d) => d, 'it is a directory, not a spec file'],
    [
      'a file over 1 MiB',
      async (d) => {
        const file = path.join(d, 'big.yaml');
        await writeFile(file, `# ${'x'.repeat(1024 * 1024)}\n`);
        return file;
      },
      'it is too large (1048579 bytes; a spec may have at most 1 MiB)',
    ],
  ])('refuses %s with a SpecFileError', async (_, make, reason) => {
    const file = await make(dir);
    const error = await loadSpec(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecFileError);
    expect((error as SpecFileError).message).toBe(`Cannot read spec ${file}: ${reason}. Check the path and try again.`);
  });
});
