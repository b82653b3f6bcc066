/**
 * The corpus of rejected specs: one directory per case, each with the `podvoy.yaml` to play, the
 * files it refers to, the exact message podvoy must reject it with (`expected.txt`), and, when
 * the case needs what a commit cannot hold, a `setup.json` that {@link stageCase} carries out.
 * See README.md beside this file.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** What a case needs made at test time, relative to its spec's folder. */
interface Setup {
  /** Symlinks to create, replacing what is there: link path -> target (as written into the link). */
  readonly symlinks?: Readonly<Record<string, string>>;
  /** Directories whose names are bytes, percent-encoded: `"bad%FF"` (names that are not UTF-8). */
  readonly rawDirs?: readonly string[];
  /** Symlinks whose targets are bytes, percent-encoded, as in rawDirs. */
  readonly rawSymlinks?: Readonly<Record<string, string>>;
  /** FIFOs (named pipes) to make, replacing what is there. */
  readonly fifos?: readonly string[];
  /** Files to write from base64, replacing what is there: text no YAML file could commit (UTF-16, NUL bytes). */
  readonly bytes?: Readonly<Record<string, string>>;
  /** Files to write, e.g. `../key.pem` outside the spec's folder. */
  readonly files?: Readonly<Record<string, string>>;
  /** Grows a file to `bytes` with a comment at its end (YAML stays valid). */
  readonly pad?: { readonly file: string; readonly bytes: number };
}

/** The names of every case, sorted. */
export function corpusCases(): string[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The text of a case's spec as committed (before any setup). */
export function corpusSpecText(name: string): string {
  return readFileSync(path.join(CORPUS_DIR, name, 'podvoy.yaml'), 'utf8');
}

export interface StagedCase {
  /** The spec file to play: `<tmp>/spec/podvoy.yaml`. */
  readonly file: string;
  /** The spec's folder: `<tmp>/spec`. */
  readonly dir: string;
}

/**
 * Copies a case into `<tmp>/spec` and makes what its setup.json asks for. `tmp` must be a real
 * path (no symlink on the way), as messages name real paths.
 */
export async function stageCase(name: string, tmp: string): Promise<StagedCase> {
  const dir = path.join(tmp, 'spec');
  await cp(path.join(CORPUS_DIR, name), dir, {
    recursive: true,
    filter: (src) => !['expected.txt', 'setup.json'].includes(path.basename(src)),
  });
  const setup = await readSetup(name);
  for (const [link, target] of Object.entries(setup.symlinks ?? {})) {
    await rm(path.join(dir, link), { force: true });
    await symlink(target, path.join(dir, link));
  }
  for (const name of setup.rawDirs ?? []) await mkdir(Buffer.concat([Buffer.from(`${dir}/`), percentDecoded(name)]));
  for (const [link, target] of Object.entries(setup.rawSymlinks ?? {})) {
    await symlink(percentDecoded(target), path.join(dir, link));
  }
  for (const fifo of setup.fifos ?? []) {
    await rm(path.join(dir, fifo), { force: true });
    execFileSync('mkfifo', [path.join(dir, fifo)]);
  }
  for (const [file, base64] of Object.entries(setup.bytes ?? {})) {
    await writeFile(path.join(dir, file), Buffer.from(base64, 'base64'));
  }
  for (const [file, text] of Object.entries(setup.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  if (setup.pad) {
    const file = path.join(dir, setup.pad.file);
    const text = await readFile(file, 'utf8');
    // A comment of spaces to the wanted size keeps the file valid YAML: only its size is wrong.
    await writeFile(file, `${text}#${' '.repeat(setup.pad.bytes - Buffer.byteLength(text) - 2)}\n`);
  }
  return { file: path.join(dir, 'podvoy.yaml'), dir };
}

/** `"bad%FF"` as the bytes it stands for. */
function percentDecoded(name: string): Buffer {
  const parts = name.split(/(%[0-9A-Fa-f]{2})/).filter(Boolean);
  return Buffer.concat(parts.map((p) => (/^%[0-9A-Fa-f]{2}$/.test(p) ? Buffer.from([parseInt(p.slice(1), 16)]) : Buffer.from(p))));
}

async function readSetup(name: string): Promise<Setup> {
  try {
    return JSON.parse(await readFile(path.join(CORPUS_DIR, name, 'setup.json'), 'utf8')) as Setup;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/**
 * The message a staged case must be rejected with: expected.txt with `<spec>` replaced by the
 * spec file's path and `<tmp>` by the staging directory (`<tmp>/spec` is the spec's folder).
 */
export async function expectedMessage(name: string, staged: { file: string; tmp: string }): Promise<string> {
  const text = await readFile(path.join(CORPUS_DIR, name, 'expected.txt'), 'utf8');
  return text.replace(/\n$/, '').replaceAll('<spec>', staged.file).replaceAll('<tmp>', staged.tmp);
}

/** The inverse of {@link expectedMessage}: how a message is pinned in expected.txt. */
export function pinnedMessage(message: string, staged: { file: string; tmp: string }): string {
  return `${message.replaceAll(staged.file, '<spec>').replaceAll(staged.tmp, '<tmp>')}\n`;
}
