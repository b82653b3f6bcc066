import { realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SpecFileError } from '../errors.js';
import type { Spec } from './model.js';
import { parseSpec, type SpecHost } from './parse.js';

/** Specs are a few kilobytes; anything this big is the wrong file. */
const MAX_SPEC_BYTES = 1024 * 1024;

/** Reads the spec at `file` (as the user named it) and parses it; the only I/O of `spec/`. */
export async function loadSpec(file: string): Promise<Spec> {
  const absFile = path.resolve(file);
  let text: string;
  try {
    const info = await stat(absFile);
    if (info.isDirectory()) throw new SpecFileError(file, 'it is a directory, not a spec file');
    if (info.size > MAX_SPEC_BYTES) {
      throw new SpecFileError(file, `it is too large (${info.size} bytes; a spec may have at most 1 MiB)`);
    }
    text = await readFile(absFile, 'utf8');
  } catch (error) {
    if (error instanceof SpecFileError) throw error;
    throw new SpecFileError(file, readFailure(error));
  }
  return parseSpec(text, file, nodeHost(absFile));
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory, not a spec file';
    case 'ENOTDIR':
      return 'a parent of it is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function nodeHost(absFile: string): SpecHost {
  return {
    dir: path.dirname(absFile),
    absFile,
    isDirectory(absPath) {
      try {
        return statSync(absPath).isDirectory();
      } catch {
        return false;
      }
    },
    isFile(absPath) {
      try {
        return statSync(absPath).isFile();
      } catch {
        return false;
      }
    },
    realpath: (absPath) => realpathSync(absPath),
  };
}
