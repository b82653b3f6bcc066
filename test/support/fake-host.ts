import path from 'node:path';
import type { SpecHost } from '../../src/spec/parse.js';

/** A spec host for pure tests: the spec lives in `dir`, and every directory and file below it exists. */
export function fakeHost(dir: string): SpecHost {
  return {
    dir,
    absFile: path.join(dir, 'podvoy.yaml'),
    isDirectory: (abs) => abs === dir || abs.startsWith(`${dir}/`),
    isFile: (abs) => abs.startsWith(`${dir}/`),
    realpath: (abs) => abs,
  };
}
