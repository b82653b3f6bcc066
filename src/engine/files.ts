import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Writes a file so that readers see the old or the new content, never a part: write a temp file
 * beside it, then rename over it.
 */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

/** The package's root: this file is `src/engine/files.ts`, or `dist/engine/files.js` once built. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Reads several text files of one directory, by name. */
export async function readTextFiles<N extends string>(dir: string, names: readonly N[], suffix = ''): Promise<Record<N, string>> {
  const entries = await Promise.all(names.map(async (name) => [name, await readFile(path.join(dir, `${name}${suffix}`), 'utf8')] as const));
  return Object.fromEntries(entries) as Record<N, string>;
}
