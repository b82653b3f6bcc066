import { constants, realpathSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { SpecFileError } from '../errors.js';
import { decodeSpec } from './decode.js';
import type { SpecHost } from './host.js';
import type { Spec } from './model.js';
import { parseSpec } from './parse.js';

/** Specs are a few kilobytes; anything this big is the wrong file. */
const MAX_SPEC_BYTES = 1024 * 1024;

export interface LoadOptions {
  /**
   * podvoy's own directories (state, sockets): no static site may contain one or lie inside one.
   * @example [roots.stateDir, roots.runDir]
   */
  readonly privateDirs?: readonly string[];
}

/** Reads the spec at `file` (as the user named it) and parses it; the only I/O of `spec/`. */
export async function loadSpec(file: string, options: LoadOptions = {}): Promise<Spec> {
  const absFile = path.resolve(file);
  const bytes = await readSpecBytes(file, absFile);
  return parseSpec(decodeSpec(bytes, file), file, nodeHost(absFile, options.privateDirs ?? []));
}

/**
 * The file's bytes, read only if it is a regular file, and at most one byte more than a spec may
 * have: a FIFO would block, and /dev/zero or /proc files do not have the size stat reports.
 */
async function readSpecBytes(file: string, absFile: string): Promise<Uint8Array> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const handle = await open(absFile, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw new SpecFileError(file, readFailure(error));
  });
  try {
    const info = await handle.stat();
    const kind = notRegular(info);
    if (kind) throw new SpecFileError(file, kind);
    if (info.size > MAX_SPEC_BYTES) throw tooLarge(file, info.size);
    const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_SPEC_BYTES) throw tooLarge(file, length, true);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof SpecFileError) throw error;
    throw new SpecFileError(file, readFailure(error));
  } finally {
    await handle.close();
  }
}

function tooLarge(file: string, size: number, atLeast = false): SpecFileError {
  return new SpecFileError(file, `it is too large (${atLeast ? 'more than ' : ''}${size} bytes; a spec may have at most 1 MiB)`);
}

function notRegular(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'it is a directory, not a spec file';
  if (info.isFIFO()) return 'it is a FIFO (named pipe), not a regular file; podvoy reads a spec only from a file';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'it is a device, not a regular file; podvoy reads a spec only from a file';
  if (info.isSocket()) return 'it is a socket, not a regular file; podvoy reads a spec only from a file';
  return 'it is not a regular file';
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
    case 'ELOOP':
      return 'it is a loop of symlinks';
    case 'ENAMETOOLONG':
      return 'its name is too long';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function nodeHost(absFile: string, privateDirs: readonly string[]): SpecHost {
  const real = (p: string): string | undefined => {
    try {
      return UTF8.decode(realpathSync(p, { encoding: 'buffer' }));
    } catch {
      return undefined;
    }
  };
  return {
    dir: path.dirname(absFile),
    absFile,
    // Real paths, so that a symlink cannot hide that a site contains one.
    privateDirs: privateDirs.map((d) => real(d) ?? path.resolve(d)),
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
    realpath: real,
  };
}
