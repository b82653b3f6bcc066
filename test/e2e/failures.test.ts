import net from 'node:net';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvoyConfigError, ImageMissingError, NginxConfigError, PodNotReadyError, PortInUseError, play, ps } from '../../src/index.js';
import { configRejection } from '../../src/engine/rollout/config-rejection.js';
import { tailPodLogs } from '../../src/engine/podman/pods.js';
import { IN_POD } from '../../src/mesh/contract.js';
import { cli, freePort, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';

/** Bad input and failures after start, on real podman: one clear error, and nothing left half-started. */
describe('failures', () => {
  let ws: Workspace;
  let name: string;
  beforeEach(async () => {
    ws = await workspace('blog');
    name = uniqueName('fail');
  });
  afterEach(async () => ws.cleanup());

  const staticSpec = (port: number) => `name: ${name}\nservices:\n  web:\n    static: ./site\n    sidecar:\n      publish: ${port}\n`;
  const podsOf = async () => (await ps()).filter((p) => p.spec === name);
  const networkExists = async () => (await podmanLines('network', 'ls', '--format', '{{.Name}}')).includes(`podvoy-${name}`);

  it('rolls back a pod that never serves and leaves the earlier deployment serving', async () => {
    const port = await freePort();
    const file = await ws.writeSpec(staticSpec(port));
    const first = await play(file, { roots: ws.roots });
    const before = first.services[0]!.pod;

    // The nginx image without podvoy's config exits at once: a container that dies after start.
    const [nginxImage] = await podmanLines('images', '--filter', 'reference=localhost/podvoy/nginx', '--format', '{{.Repository}}:{{.Tag}}');
    await ws.writeSpec(`name: ${name}\nservices:\n  web:\n    image: ${nginxImage}\n    port: 8080\n    sidecar:\n      publish: ${port}\n`);
    const error = await play(file, { roots: ws.roots, timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodNotReadyError);
    expect((error as PodNotReadyError).message).toMatch(
      new RegExp(`^Pod ${name}-web-[0-9a-f]{8} did not become ready within [0-9.]+ s: container ${name}-web-[0-9a-f]{8}-app (exited with code 1|restarted [0-9]+ time\\(s\\))\\. It was removed and any earlier deployment restored\\.`),
    );
    expect((await podsOf()).map((p) => [p.name, p.status])).toEqual([[before, 'Running']]);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(await readdir(path.join(ws.roots.stateDir, name))).toEqual([before]);
  });

  it('refuses a host port that something else holds, before starting anything', async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const error = await play(await ws.writeSpec(staticSpec(port)), { roots: ws.roots }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toBe(
        `Host port 127.0.0.1:${port} (services.web.sidecar.publish) is already in use. Stop what listens there (ss -ltnp shows it) or publish another port.`,
      );
    } finally {
      holder.close();
    }
    expect(await podsOf()).toEqual([]);
    expect(await networkExists()).toBe(false);
    expect(existsSync(path.join(ws.roots.stateDir, name))).toBe(false);
  });

  it('names an image that cannot be had and starts nothing', async () => {
    const port = await freePort();
    const file = await ws.writeSpec(`name: ${name}\nimages:\n  envoy: localhost/podvoy/no-such-envoy:0\n${staticSpec(port).split('\n').slice(1).join('\n')}`);
    const error = await play(file, { roots: ws.roots }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageMissingError);
    expect((error as Error).message).toBe(
      'Image localhost/podvoy/no-such-envoy:0 is not available. Fix images.envoy in the spec, or run `podvoy images build` and remove it.',
    );
    expect(await podsOf()).toEqual([]);
    expect(await networkExists()).toBe(false);
  });

  it('reports a bad spec with file:line:column through the CLI, exit 2, and starts nothing', async () => {
    const file = await ws.writeSpec(`name: ${name}\nservices:\n  web:\n    static: ./nowhere\n    sidecar: {publish: 80800}\n`);
    const { code, stdout, stderr } = await cli(['play', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      [
        'podvoy: The spec has 2 problems:',
        `  ${file}:4:13: services.web.static: ./nowhere does not exist or is not a directory. Create it or fix the path.`,
        `  ${file}:5:24: services.web.sidecar.publish: Port 80800 is out of range. Use a host port from 1 to 65535.`,
        '',
      ].join('\n'),
    );
    expect(await podsOf()).toEqual([]);
  });

  // play lets a pod's own Envoy and nginx check their configs as they start, and names a
  // rejection from the pod's logs: this holds that reading to what the real binaries log.
  it.each([
    ['envoy', 'envoy', IN_POD.envoyConfig, 'static_resources:\n  listeners:\n  - name: x\n    bogus_field: 1\n', EnvoyConfigError],
    ['nginx', 'nginx', IN_POD.nginxConfig, 'events {}\nhttp { bogus on; }\n', NginxConfigError],
  ] as const)("names a config that the pod's own %s rejects at start, from the pod's logs", async (container, component, inPod, text, type) => {
    const pod = `${name}-web-0123abcd`;
    const config = path.join(ws.dir, 'rejected.conf');
    await writeFile(config, text);
    const [image] = await podmanLines('images', '--filter', `reference=localhost/podvoy/${component}`, '--format', '{{.Repository}}:{{.Tag}}');
    const binary = component === 'envoy' ? IN_POD.envoyBinary : IN_POD.nginxBinary;
    try {
      await podmanLines('pod', 'create', '--name', pod);
      const run = podmanLines('run', '--pod', pod, '--name', `${pod}-${container}`, '--volume', `${config}:${inPod}:ro`, '--entrypoint', binary, image!, '-c', inPod);
      const exitCode = await run.then(() => 0, (error: { code?: number }) => error.code);
      expect(exitCode).toBe(1);
      const rejection = configRejection(pod, { envoyConf: '/state/envoy.yaml', nginxConf: '/state/nginx.conf' }, await tailPodLogs(pod, 20));
      expect(rejection).toBeInstanceOf(type);
      expect(rejection?.message).toMatch(/bogus/);
    } finally {
      await podmanLines('pod', 'rm', '--force', pod);
    }
  });

  it('says how to install podman when it is missing', async () => {
    const { code, stderr } = await cli(['ps'], { PATH: '/nonexistent' });
    expect(code).toBe(1);
    expect(stderr).toBe('podvoy: podman not found on PATH. Run scripts/setup, or install podman and runc (apt-get install podman runc).\n');
  });
});
