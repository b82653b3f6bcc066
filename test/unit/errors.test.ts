import { describe, expect, it } from 'vitest';
import {
  EngineCommandError,
  EngineNotFoundError,
  ImageMissingError,
  PodNotReadyError,
  PodvoyError,
  InotifyLimitError,
  PortInUseError,
  SpecError,
  formatProblem,
  type SpecProblem,
} from '../../src/errors.js';

const problem = (path: string, message: string, line = 4, column = 13): SpecProblem => ({
  file: 'examples/blog/podvoy.yaml',
  line,
  column,
  path,
  message,
});

const STATIC_MISSING = problem('services.web.static', 'points at ./site, which does not exist. Create it or fix the path.');
const PORT_LOW = problem('services.web.port', 'must be 1024 or above.', 5, 11);

describe('formatProblem', () => {
  it.each<[string, SpecProblem, string]>([
    [
      'with a path',
      STATIC_MISSING,
      'examples/blog/podvoy.yaml:4:13: services.web.static: points at ./site, which does not exist. Create it or fix the path.',
    ],
    ['without a path', problem('', 'The spec is empty.', 1, 1), 'examples/blog/podvoy.yaml:1:1: The spec is empty.'],
  ])('%s', (_name, p, expected) => {
    expect(formatProblem(p)).toBe(expected);
  });
});

describe('error messages', () => {
  it.each<[string, () => PodvoyError, string, string]>([
    [
      'SpecError with one problem',
      () => new SpecError([STATIC_MISSING]),
      'SpecError',
      'The spec has a problem:\n' +
        '  examples/blog/podvoy.yaml:4:13: services.web.static: points at ./site, which does not exist. Create it or fix the path.',
    ],
    [
      'SpecError with several problems',
      () => new SpecError([STATIC_MISSING, PORT_LOW]),
      'SpecError',
      'The spec has 2 problems:\n' +
        '  examples/blog/podvoy.yaml:4:13: services.web.static: points at ./site, which does not exist. Create it or fix the path.\n' +
        '  examples/blog/podvoy.yaml:5:11: services.web.port: must be 1024 or above.',
    ],
    [
      'EngineNotFoundError',
      () => new EngineNotFoundError('podman', 'Run scripts/setup, or install podman and runc (apt-get install podman runc).'),
      'EngineNotFoundError',
      'podman not found on PATH. Run scripts/setup, or install podman and runc (apt-get install podman runc).',
    ],
    [
      'EngineCommandError with stderr and hint',
      () => new EngineCommandError(['podman', 'pod', 'start', 'x'], 125, 'Error: a\nError: b\n', 'Do this.'),
      'EngineCommandError',
      '`podman pod start x` failed (exit 125):\n    Error: a\n    Error: b\nDo this.',
    ],
    [
      'EngineCommandError without stderr or hint',
      () => new EngineCommandError(['podman', 'pod', 'start', 'x'], 125, '  \n'),
      'EngineCommandError',
      '`podman pod start x` failed (exit 125).',
    ],
    [
      'EngineCommandError without stderr, with a hint',
      () => new EngineCommandError(['podman', 'pod', 'start', 'x'], 125, '', 'Do this.'),
      'EngineCommandError',
      '`podman pod start x` failed (exit 125).\nDo this.',
    ],
    [
      'EngineCommandError without an exit code',
      () => new EngineCommandError(['podman', 'info'], undefined, 'killed'),
      'EngineCommandError',
      '`podman info` failed:\n    killed',
    ],
    [
      'PortInUseError',
      () => new PortInUseError('127.0.0.1', 8080, 'services.web.sidecar.publish'),
      'PortInUseError',
      'Host port 127.0.0.1:8080 (services.web.sidecar.publish) is already in use. ' +
        'Stop what listens there (ss -ltnp shows it) or publish another port.',
    ],
    [
      'InotifyLimitError',
      () => new InotifyLimitError(128, 31, 217, 8192),
      'InotifyLimitError',
      'fs.inotify.max_user_instances is 128, and the 31 Envoys of this deployment may need 217 (each watches its mesh and ' +
        'identity files; they all run as uid 101). Nothing was started. Run scripts/setup, or: ' +
        'sysctl -w fs.inotify.max_user_instances=8192 (and keep it in /etc/sysctl.d/).',
    ],
    [
      'PodNotReadyError without logs',
      () => new PodNotReadyError('blog-web-1a2b3c4d', 60_000, 'Envoy /ready answered 503', ' \n'),
      'PodNotReadyError',
      'Pod blog-web-1a2b3c4d did not become ready within 60.0 s: Envoy /ready answered 503. ' +
        'It was removed and any earlier deployment restored.',
    ],
    [
      'PodNotReadyError with logs',
      () => new PodNotReadyError('blog-web-1a2b3c4d', 1234, 'nginx exited (code 1)', 'nginx: [emerg] bad\nnginx: exiting\n'),
      'PodNotReadyError',
      'Pod blog-web-1a2b3c4d did not become ready within 1.2 s: nginx exited (code 1). ' +
        'It was removed and any earlier deployment restored.\n' +
        'Last log lines:\n    nginx: [emerg] bad\n    nginx: exiting',
    ],
    [
      'ImageMissingError',
      () => new ImageMissingError('localhost/podvoy/nginx:0.1.0', 'Run `podvoy images build`.'),
      'ImageMissingError',
      'Image localhost/podvoy/nginx:0.1.0 is not available. Run `podvoy images build`.',
    ],
  ])('%s', (_title, make, name, message) => {
    const error = make();
    expect(error).toBeInstanceOf(PodvoyError);
    expect(error.name).toBe(name);
    expect(error.message).toBe(message);
  });

  it('keeps the last 15 log lines of a pod that did not become ready', () => {
    const logs = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
    const message = new PodNotReadyError('p', 0, 'r', logs).message;
    expect(message.split('\n').slice(2)).toEqual(Array.from({ length: 15 }, (_, i) => `    line ${i + 6}`));
  });
});
