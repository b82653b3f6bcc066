import { describe, expect, it } from 'vitest';
import {
  containerInspectArgs,
  envoyValidateArgs,
  nginxTestArgs,
  imageBuildArgs,
  imageExistsArgs,
  imageListArgs,
  imagePullArgs,
  kubePlayArgs,
  networkCreateArgs,
  networkExistsArgs,
  networkRmArgs,
  podLogsArgs,
  podPsArgs,
  podRmArgs,
  podStartArgs,
  podStopArgs,
} from '../../../../src/engine/podman/args.js';

const POD = 'blog-web-1a2b3c4d';

describe('podman argv builders', () => {
  it.each<[string, () => string[], string[]]>([
    [
      'kubePlayArgs',
      () => kubePlayArgs('/var/lib/podvoy/blog/pod.yaml', 'podvoy-blog'),
      ['kube', 'play', '--network', 'podvoy-blog', '/var/lib/podvoy/blog/pod.yaml'],
    ],
    ['podRmArgs, one pod', () => podRmArgs([POD], 5), ['pod', 'rm', '--force', '--ignore', '--time', '5', POD]],
    ['podRmArgs, two pods', () => podRmArgs(['a', 'b'], 0), ['pod', 'rm', '--force', '--ignore', '--time', '0', 'a', 'b']],
    ['podStopArgs', () => podStopArgs(['a', 'b'], 10), ['pod', 'stop', '--ignore', '--time', '10', 'a', 'b']],
    ['podStartArgs', () => podStartArgs(['a', 'b']), ['pod', 'start', 'a', 'b']],
    ['podPsArgs, all specs', () => podPsArgs(), ['pod', 'ps', '--filter', 'label=io.podvoy.spec', '--format', 'json']],
    ['podPsArgs, one spec', () => podPsArgs('blog'), ['pod', 'ps', '--filter', 'label=io.podvoy.spec=blog', '--format', 'json']],
    ['podLogsArgs, no options', () => podLogsArgs(POD, {}), ['pod', 'logs', '--names', POD]],
    [
      'podLogsArgs, every option',
      () => podLogsArgs(POD, { container: `${POD}-nginx`, follow: true, tail: 20, since: new Date(Date.UTC(2026, 10, 29, 8, 46, 56, 989)) }),
      ['pod', 'logs', '--names', '--container', `${POD}-nginx`, '--follow', '--tail', '20', '--since', '2026-11-29T08:46:56.989Z', POD],
    ],
    ['podLogsArgs, tail 0 is kept', () => podLogsArgs(POD, { tail: 0, follow: false }), ['pod', 'logs', '--names', '--tail', '0', POD]],
    [
      'containerInspectArgs',
      () => containerInspectArgs([`${POD}-nginx`, `${POD}-envoy`]),
      ['container', 'inspect', '--format', 'json', `${POD}-nginx`, `${POD}-envoy`],
    ],
    ['networkExistsArgs', () => networkExistsArgs('podvoy-blog'), ['network', 'exists', 'podvoy-blog']],
    [
      'networkCreateArgs',
      () => networkCreateArgs('podvoy-blog', 'blog'),
      ['network', 'create', '--label', 'io.podvoy.spec=blog', 'podvoy-blog'],
    ],
    ['networkRmArgs', () => networkRmArgs('podvoy-blog'), ['network', 'rm', '--force', 'podvoy-blog']],
    ['imageExistsArgs', () => imageExistsArgs('docker.io/library/nginx:1.27'), ['image', 'exists', 'docker.io/library/nginx:1.27']],
    ['imagePullArgs', () => imagePullArgs('docker.io/library/nginx:1.27'), ['pull', '--quiet', 'docker.io/library/nginx:1.27']],
    [
      'imageListArgs',
      () => imageListArgs(['localhost/podvoy/nginx', 'localhost/podvoy/envoy']),
      ['images', '--filter', 'reference=localhost/podvoy/nginx', '--filter', 'reference=localhost/podvoy/envoy', '--sort', 'created', '--format', '{{.Repository}}:{{.Tag}}'],
    ],
    [
      'imageBuildArgs, two tags',
      () => imageBuildArgs(['localhost/podvoy/nginx:1', 'localhost/podvoy/nginx:latest'], '/tmp/ctx/Containerfile', '/tmp/ctx'),
      [
        'build', '--quiet',
        '--tag', 'localhost/podvoy/nginx:1',
        '--tag', 'localhost/podvoy/nginx:latest',
        '--file', '/tmp/ctx/Containerfile', '/tmp/ctx',
      ],
    ],
    [
      'envoyValidateArgs',
      () => envoyValidateArgs('localhost/podvoy/envoy:1', '/var/lib/podvoy/blog/envoy.yaml'),
      [
        'run', '--rm', '--network', 'none',
        '--volume', '/var/lib/podvoy/blog/envoy.yaml:/etc/podvoy/envoy.yaml:ro',
        '--entrypoint', '/usr/local/bin/envoy',
        'localhost/podvoy/envoy:1', '--mode', 'validate', '-c', '/etc/podvoy/envoy.yaml', '--log-level', 'error',
      ],
    ],
    [
      'nginxTestArgs',
      () => nginxTestArgs('localhost/podvoy/nginx:1', '/var/lib/podvoy/blog/nginx.conf'),
      [
        'run', '--rm', '--network', 'none', '--read-only', '--user', '101:101', '--tmpfs', '/tmp',
        '--volume', '/var/lib/podvoy/blog/nginx.conf:/etc/podvoy/nginx.conf:ro',
        '--entrypoint', '/usr/sbin/nginx',
        'localhost/podvoy/nginx:1', '-t', '-q', '-e', 'stderr', '-c', '/etc/podvoy/nginx.conf',
      ],
    ],
  ])('%s', (_name, build, argv) => {
    expect(build()).toEqual(argv);
  });
});
