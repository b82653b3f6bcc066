import { describe, expect, it } from 'vitest';
import { EnvoyConfigError, NginxConfigError } from '../../../../src/errors.js';
import { configRejection } from '../../../../src/engine/rollout/config-rejection.js';

const POD = 'blog-web-0123abcd';
const PATHS = { envoyConf: '/var/lib/podvoy/blog/web/envoy.yaml', nginxConf: '/var/lib/podvoy/blog/web/nginx.conf' };

describe('configRejection', () => {
  it("names Envoy's rejection of its bootstrap, from the line Envoy 1.40 logs and what follows", () => {
    const logs = [
      `${POD}-nginx 2026/11/29 03:00:01 [notice] 1#1: start worker processes`,
      `${POD}-envoy [2026-11-29 03:00:01.100][1][critical][main] [source/server/server.cc:449] error \`Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT: no such field: 'bogus') has unknown fields\` initializing config '/etc/envoy/envoy.yaml'`,
      `${POD}-envoy Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT: no such field: 'bogus') has unknown fields`,
    ].join('\n');
    const error = configRejection(POD, PATHS, logs);
    expect(error).toBeInstanceOf(EnvoyConfigError);
    expect(error).toMatchObject({ file: PATHS.envoyConf });
    expect((error as EnvoyConfigError).output.split('\n')).toEqual([
      expect.stringContaining('[critical]'),
      "Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT: no such field: 'bogus') has unknown fields",
    ]);
  });

  it('names the older wording, "error initializing configuration"', () => {
    const logs = `${POD}-envoy [2026-11-29 02:59:58.556][1][critical][main] [source/server/config_validation/server.cc:76] error initializing configuration '/etc/envoy/envoy.yaml': Invalid path`;
    expect(configRejection(POD, PATHS, logs)).toBeInstanceOf(EnvoyConfigError);
  });

  it("names nginx's rejection only where it points at a line of a config", () => {
    const emerg = `${POD}-nginx 2026/11/29 02:59:49 [emerg] 1#1: unknown directive "bogus" in /etc/nginx/nginx.conf:2`;
    const error = configRejection(POD, PATHS, emerg);
    expect(error).toBeInstanceOf(NginxConfigError);
    expect(error).toMatchObject({ file: PATHS.nginxConf, output: '2026/11/29 02:59:49 [emerg] 1#1: unknown directive "bogus" in /etc/nginx/nginx.conf:2' });
    const bind = `${POD}-nginx 2026/11/29 02:59:49 [emerg] 1#1: bind() to 0.0.0.0:8080 failed (98: Address already in use)`;
    expect(configRejection(POD, PATHS, bind)).toBeUndefined();
  });

  it("reads only this pod's Envoy and nginx: an app's or another pod's lines are not podvoy's config", () => {
    const logs = [
      `${POD}-app [critical] error initializing configuration of the app`,
      `other-web-0123abcd-envoy [2026-11-29][1][critical][main] error initializing configuration '/etc/envoy/envoy.yaml'`,
      `${POD}-envoy [2026-11-29 03:00:01.100][1][warning][main] a warning`,
    ].join('\n');
    expect(configRejection(POD, PATHS, logs)).toBeUndefined();
  });
});
