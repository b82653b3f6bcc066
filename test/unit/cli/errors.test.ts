import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../src/cli/errors.js';
import {
  EngineCommandError,
  EngineNotFoundError,
  EnvoyConfigError,
  ImageMissingError,
  NotDeployedError,
  PodNotReadyError,
  PortInUseError,
  SpecError,
  SpecFileError,
} from '../../../src/errors.js';

describe('exitCodeOf', () => {
  it.each<[string, unknown, number]>([
    ['SpecError', new SpecError([{ file: 'f', line: 1, column: 1, path: '', message: 'm' }]), 2],
    ['SpecFileError', new SpecFileError('f', 'ENOENT'), 2],
    ['EngineNotFoundError', new EngineNotFoundError('podman', 'fix'), 1],
    ['EngineCommandError', new EngineCommandError(['podman'], 125, ''), 1],
    ['ImageMissingError', new ImageMissingError('i', 'fix'), 1],
    ['EnvoyConfigError', new EnvoyConfigError('f', 'o'), 1],
    ['PortInUseError', new PortInUseError('127.0.0.1', 8080, 'w'), 1],
    ['PodNotReadyError', new PodNotReadyError('p', 1, 'r', ''), 1],
    ['NotDeployedError', new NotDeployedError('m'), 1],
    ['a TypeError (a bug)', new TypeError('x is undefined'), 70],
    ['a plain Error (a bug)', new Error('boom'), 70],
    ['a thrown string', 'boom', 70],
    ['undefined', undefined, 70],
  ])('%s exits %i', (_name, error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});
