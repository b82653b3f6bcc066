/**
 * Hostile input, round two (issue 12): what the corpus cannot hold or time. The corpus
 * (test/corpus) pins the messages of each class end to end; these pin the pieces.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpecError, SpecFileError } from '../../../src/errors.js';
import { forbiddenCharacter } from '../../../src/spec/characters.js';
import { decodeSpec } from '../../../src/spec/decode.js';
import { loadSpec } from '../../../src/spec/load.js';
import { parseSpec } from '../../../src/spec/parse.js';
import { shown } from '../../../src/spec/positions.js';
import { fakeHost } from '../../support/fake-host.js';

const FILE = 'h/podvoy.yaml';

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('decodeSpec', () => {
  it.each<[string, number[] | string, string]>([
    ['a UTF-16 LE byte order mark', [0xff, 0xfe, 0x6e, 0x00], '1:1: The spec is UTF-16 (it starts with a UTF-16 byte order mark); podvoy reads only UTF-8. Save the spec as UTF-8 (iconv -f UTF-16 -t UTF-8 converts it).'],
    ['a UTF-16 BE byte order mark', [0xfe, 0xff, 0x00, 0x6e], '1:1: The spec is UTF-16 (it starts with a UTF-16 byte order mark); podvoy reads only UTF-8. Save the spec as UTF-8 (iconv -f UTF-16 -t UTF-8 converts it).'],
    ['UTF-16 without a mark', [0x6e, 0x00, 0x61, 0x00], '1:1: The spec looks like UTF-16 without a byte order mark (a NUL byte beside every character); podvoy reads only UTF-8. Save the spec as UTF-8 (iconv -f UTF-16 -t UTF-8 converts it).'],
    ['a NUL byte', 'name: x\nab\u0000', '2:3: The spec contains a NUL byte here, which no YAML text may hold. Remove it; the file may be binary or damaged.'],
    // The column counts characters, as yaml's positions do: "é" is one.
    ['a byte after a multi-byte character', [...Buffer.from('a:\nné: '), 0xff], '2:5: The spec is not valid UTF-8: byte 0xFF here is not part of any UTF-8 character. Save the spec as UTF-8.'],
    ['a sequence cut short at the end', [...Buffer.from('a: '), 0xe2, 0x82], '1:4: The spec is not valid UTF-8: byte 0xE2 here is not part of any UTF-8 character. Save the spec as UTF-8.'],
    ['an encoded surrogate', [...Buffer.from('a: '), 0xed, 0xb0, 0x80], '1:4: The spec is not valid UTF-8: byte 0xED here is not part of any UTF-8 character. Save the spec as UTF-8.'],
    ['a code point above U+10FFFF', [...Buffer.from('a: '), 0xf4, 0x90, 0x80, 0x80], '1:4: The spec is not valid UTF-8: byte 0xF4 here is not part of any UTF-8 character. Save the spec as UTF-8.'],
  ])('refuses %s, where it is', (_, input, message) => {
    const bytes = typeof input === 'string' ? Buffer.from(input) : Uint8Array.from(input);
    const error = errorOf(() => decodeSpec(bytes, FILE));
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toBe(`The spec has a problem:\n  ${FILE}:${message}`);
  });

  it('reads UTF-8, with or without its byte order mark, as the text it is', () => {
    const text = 'name: ünï\u2028😀\n';
    expect(decodeSpec(Buffer.from(text), FILE)).toBe(text);
    expect(decodeSpec(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), FILE)).toBe(text);
  });
});

describe('forbiddenCharacter', () => {
  const env = { allowTabAndNewline: true };
  it.each<[string, string | undefined]>([
    ['plain', undefined],
    ['tab\tand\nnewline', undefined],
    ['\u00a0\u2028\u2029😀\ufffd\ufeff', undefined],
    ['a\u0000', 'U+0000 (NUL) at 2'],
    ['\u0001', 'U+0001 (a control character) at 1'],
    ['\r', 'U+000D (a control character) at 1'],
    ['\u007f', 'U+007F (DEL) at 1'],
    ['\u0085', 'U+0085 (a C1 control character) at 1'],
    ['\u009f', 'U+009F (a C1 control character) at 1'],
    ['\ufdd0', 'U+FDD0 (a noncharacter) at 1'],
    ['\uffff', 'U+FFFF (a noncharacter) at 1'],
    ['😀\u{1fffe}', 'U+1FFFE (a noncharacter) at 2'],
    ['x\ud800', 'U+D800 (a lone surrogate, not a character) at 2'],
    ['\udc00x', 'U+DC00 (a lone surrogate, not a character) at 1'],
  ])('in an environment value %j: %s', (text, found) => {
    const bad = forbiddenCharacter(text, env);
    expect(bad && `${bad.what} at ${bad.position}`).toBe(found);
  });

  it('refuses tab and newline in a path', () => {
    expect(forbiddenCharacter('a\tb', { allowTabAndNewline: false })?.what).toBe('U+0009 (a control character)');
  });
});

describe('messages', () => {
  it.each<[string, string]>([
    ['\u009b2J', '"\\u009b2J"'],
    ['a\u007fb', '"a\\u007fb"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['\u202egnp.exe', '"\\u202egnp.exe"'],
    ['\u2066\u2069\u200e\u200f\u061c', '"\\u2066\\u2069\\u200e\\u200f\\u061c"'],
    ['\u001b[2J', '"\\u001b[2J"'],
    ['x'.repeat(61), `"${'x'.repeat(60)}…"`],
    [`${'x'.repeat(59)}😀😀`, `"${'x'.repeat(59)}😀…"`],
  ])('show %j as %s', (value, text) => {
    expect(shown(value)).toBe(text);
  });

  it('cut a 900,000-character value to 60 characters', () => {
    const text = `name: x\nservices:\n  web: {image: "${'a'.repeat(900_000)}", port: 3000}\n`;
    const error = errorOf(() => parseSpec(text, FILE, fakeHost('/srv/h')));
    expect((error as SpecError).message).toBe(
      `The spec has a problem:\n  ${FILE}:3:16: services.web.image: The image reference is 900000 characters long; at most 255 are allowed. Use a shorter one.`,
    );
    const port = `name: x\nservices:\n  web: {image: a, port: "${'\u009b'.repeat(100_000)}"}\n`;
    const message = (errorOf(() => parseSpec(port, FILE, fakeHost('/srv/h'))) as SpecError).message;
    expect(message).toBe(`The spec has a problem:\n  ${FILE}:3:25: services.web.port: Must be an integer port number, not the string "${'\\u009b'.repeat(60)}…".`);
  });

  it('list at most 50 problems, and say how many more there are', () => {
    const text = `name: x\nservices:\n${Array.from({ length: 90 }, (_, i) => `  s${i}: {}`).join('\n')}\n`;
    const error = errorOf(() => parseSpec(text, FILE, fakeHost('/srv/h'))) as SpecError;
    expect(error.problems).toHaveLength(90);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(52);
    expect(lines[0]).toBe('The spec has 90 problems:');
    expect(lines[51]).toBe('  ...and 40 more (they are not shown). Fix these first.');
  });
});

describe('cost', () => {
  it('answers a 1 MiB spec of upstreams in seconds, with 50 problems shown', () => {
    const lines = Array.from({ length: 45_000 }, (_, i) => `      s${i}: ${1024 + (i % 60_000)}`);
    const text = `name: x\nservices:\n  web:\n    static: ./site\n    upstreams:\n${lines.join('\n')}\n`;
    expect(text.length).toBeGreaterThan(800_000);
    const start = performance.now();
    const error = errorOf(() => parseSpec(text, FILE, fakeHost('/srv/h'))) as SpecError;
    // 52 s before the port checks were linear; about 1 s on an idle machine of 2 cores now.
    expect(performance.now() - start).toBeLessThan(15_000);
    expect(error.problems.length).toBeGreaterThanOrEqual(45_000);
    expect(error.message.split('\n')).toHaveLength(52);
  }, 30_000);
});

describe('loadSpec', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'podvoy-hostile-')));
    await mkdir(path.join(dir, 'site'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a FIFO at once, with nothing writing to it', async () => {
    const fifo = path.join(dir, 'podvoy.yaml');
    execFileSync('mkfifo', [fifo]);
    const start = performance.now();
    const error = await loadSpec(fifo).catch((e: unknown) => e);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(error).toBeInstanceOf(SpecFileError);
    expect((error as SpecFileError).reason).toBe('it is a FIFO (named pipe), not a regular file; podvoy reads a spec only from a file');
  });

  it.each(['/dev/zero', '/dev/urandom'])('refuses a symlink to %s without reading it', async (device) => {
    await symlink(device, path.join(dir, 'podvoy.yaml'));
    const error = await loadSpec(path.join(dir, 'podvoy.yaml')).catch((e: unknown) => e);
    expect((error as SpecFileError).reason).toBe('it is a device, not a regular file; podvoy reads a spec only from a file');
  });

  it.each<[string, string, (d: string) => string[], string]>([
    [
      'contains the state directory',
      '.',
      (d) => [path.join(d, 'state')],
      "The site <d> contains podvoy's own directory <d>/state (TLS keys, mesh files, sockets), and nginx would serve it to anyone. Serve a folder that holds only the site, e.g. static: ./site.",
    ],
    [
      'lies inside the state directory',
      './state/blog',
      (d) => [path.join(d, 'state')],
      "The site <d>/state/blog lies inside podvoy's own directory <d>/state (TLS keys, mesh files, sockets), and nginx would serve what is there. Keep the site elsewhere.",
    ],
    [
      'is the run directory, named through a symlink',
      './site',
      (d) => [path.join(d, 'run-link')],
      "The site <d>/site contains podvoy's own directory <d>/site (TLS keys, mesh files, sockets), and nginx would serve it to anyone. Serve a folder that holds only the site, e.g. static: ./site.",
    ],
  ])('refuses a site that %s', async (_, staticPath, privateDirs, message) => {
    await mkdir(path.join(dir, 'state', 'blog'), { recursive: true });
    await symlink('site', path.join(dir, 'run-link'));
    const file = path.join(dir, 'podvoy.yaml');
    await writeFile(file, `name: x\nservices:\n  web:\n    static: ${staticPath}\n`);
    const error = await loadSpec(file, { privateDirs: privateDirs(dir) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    const messages = (error as SpecError).problems.map((p) => p.message.replaceAll(dir, '<d>'));
    expect(messages).toContain(message);
  });
});
