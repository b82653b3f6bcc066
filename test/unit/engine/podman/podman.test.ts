import { describe, expect, it } from 'vitest';
import { EngineCommandError } from '../../../../src/errors.js';
import { classifyPodmanFailure, stripPodmanWarnings } from '../../../../src/engine/podman/podman.js';

const ARGV = ['podman', '--runtime', 'runc', 'kube', 'play', '--network', 'podvoy-blog', '/var/lib/podvoy/blog/pod.yaml'];
const COMMAND = '`podman --runtime runc kube play --network podvoy-blog /var/lib/podvoy/blog/pod.yaml`';

/** What podman 4.3 prints on every call on a host with a stale CNI config (piped, so logrus text format). */
const CNI_WARNING =
  'time="2025-03-04T10:11:12Z" level=warning msg="Error validating CNI config file /etc/cni/net.d/87-podman-bridge.conflist: ' +
  '[plugin bridge does not support config version \\"1.0.0\\" plugin portmap does not support config version \\"1.0.0\\"]"';

const classify = (stderr: string, exitCode = 125) => classifyPodmanFailure({ argv: ARGV, exitCode, stdout: '', stderr });

const HINTS = {
  rlimit:
    "podman asks for ulimits above this machine's hard limits. Run scripts/setup " +
    '(it sets `default_ulimits = []` in /etc/containers/containers.conf.d/50-podvoy.conf).',
  hybrid: 'This host needs the runc runtime: apt-get install runc.',
  netavark: 'netavark needs iptables: apt-get install iptables (or run scripts/setup).',
  runc: 'Install runc: apt-get install runc.',
  port: 'A host port the pod publishes is taken; free it or publish another port.',
  image: 'The image is not available locally and cannot be pulled. Run `podvoy images build`, or name an image that exists.',
};

describe('stripPodmanWarnings', () => {
  it.each<[string, string, string]>([
    ['drops a leading warning line', `${CNI_WARNING}\nError: no pod with name or ID x found`, 'Error: no pod with name or ID x found'],
    ['drops every warning line', `${CNI_WARNING}\n${CNI_WARNING}\nError: boom`, 'Error: boom'],
    ['keeps errors logged by logrus', 'time="2025-03-04T10:11:12Z" level=error msg="boom"', 'time="2025-03-04T10:11:12Z" level=error msg="boom"'],
    ['keeps a warning that is not at the start of a line', `Error: ${CNI_WARNING}`, `Error: ${CNI_WARNING}`],
    ['leaves stderr without warnings alone', 'Error: a\nb', 'Error: a\nb'],
    ['leaves an empty stderr empty', '', ''],
  ])('%s', (_name, stderr, expected) => {
    expect(stripPodmanWarnings(stderr)).toBe(expected);
  });
});

describe('classifyPodmanFailure', () => {
  it.each<[string, string, string]>([
    [
      'runc over the hard rlimits',
      'Error: runc: runc create failed: unable to start container process: error during container init: error setting rlimit type 7: operation not permitted: OCI permission denied',
      HINTS.rlimit,
    ],
    ['crun over the hard rlimits', 'Error: OCI runtime error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted', HINTS.rlimit],
    [
      'crun on a cgroups v1 hybrid host',
      'Error: OCI runtime error: crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2',
      HINTS.hybrid,
    ],
    ['netavark without iptables', 'Error: netavark: No such file or directory (os error 2)', HINTS.netavark],
    ['runc not on PATH', 'Error: exec: "runc": executable file not found in $PATH', HINTS.runc],
    ['a taken host port', 'Error: cannot listen on the TCP port: listen tcp4 127.0.0.1:8080: bind: address already in use', HINTS.port],
    [
      'an unreachable registry',
      'Error: initializing source docker://docker.io/library/nginx:1.27: pinging container registry registry-1.docker.io: ' +
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      HINTS.image,
    ],
    ['an image missing locally', 'Error: localhost/podvoy/nginx:0.1.0: image not known', HINTS.image],
  ])('%s', (_name, error, hint) => {
    const failure = classify(`${CNI_WARNING}\n${error}`);
    expect(failure).toBeInstanceOf(EngineCommandError);
    expect(failure.argv).toEqual(ARGV);
    expect(failure.exitCode).toBe(125);
    expect(failure.stderr).toBe(error);
    expect(failure.hint).toBe(hint);
    expect(failure.message).toBe(`${COMMAND} failed (exit 125):\n    ${error}\n${hint}`);
  });

  // podman's message when `--runtime runc` names a runtime that is not installed.
  it('gives the runc hint for podman\'s "runtime not found" message', () => {
    expect(classify('Error: default OCI runtime "runc" not found: invalid argument').hint).toBe(HINTS.runc);
  });

  it('gives no hint for an unknown failure, and keeps the last five lines', () => {
    const failure = classify(`${CNI_WARNING}\nline 1\nline 2\nline 3\nline 4\nline 5\nError: something else\n`, 1);
    expect(failure.stderr).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nError: something else\n');
    expect(failure.hint).toBe('');
    expect(failure.message).toBe(
      `${COMMAND} failed (exit 1):\n    line 2\n    line 3\n    line 4\n    line 5\n    Error: something else`,
    );
  });

  it('says only that the command failed when stderr holds nothing but warnings', () => {
    const failure = classify(CNI_WARNING, 2);
    expect(failure.stderr).toBe('');
    expect(failure.message).toBe(`${COMMAND} failed (exit 2).`);
  });
});
