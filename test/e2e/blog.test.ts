import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, play, ps, type PlayResult } from '../../src/index.js';
import { accepts, cli, freePort, podmanJson, podmanLines, uniqueName, workspace, type Workspace } from '../support/e2e.js';

/** The blog example, played for real: podman, runc, nginx and Envoy, no mocks. */
describe('the blog example', () => {
  let ws: Workspace;
  let name: string;
  let port: number;
  let specFile: string;
  let played: PlayResult;
  let url: string;

  beforeAll(async () => {
    ws = await workspace('blog');
    name = uniqueName('blog');
    port = await freePort();
    specFile = await ws.writeSpec(
      `name: ${name}\nservices:\n  web:\n    static: ./site\n    sidecar:\n      port: 10000\n      publish: ${port}\n`,
    );
    played = await play(specFile, { roots: ws.roots });
    url = played.services[0]!.url!;
  });
  afterAll(async () => ws.cleanup());

  it('prints the published URL', () => {
    expect(played.services).toEqual([{ service: 'web', pod: expect.stringMatching(`^${name}-web-[0-9a-f]{8}$`), outcome: 'created', url: `http://127.0.0.1:${port}/` }]);
  });

  it.each([
    ['/', 'index.html', 'text/html'],
    ['/css/style.css', 'css/style.css', 'text/css'],
    ['/posts/hello.html', 'posts/hello.html', 'text/html'],
  ])('serves %s through the sidecar with the file bytes', async (urlPath, file, type) => {
    const res = await fetch(new URL(urlPath, url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('server')).toBe('envoy');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(await readFile(path.join(ws.dir, 'site', file)));
  });

  it('answers 404 for a missing page and for dotfiles', async () => {
    expect((await fetch(new URL('/no/such/page.html', url))).status).toBe(404);
    expect((await fetch(new URL('/.git/config', url))).status).toBe(404);
  });

  it("keeps nginx's port and Envoy's admin off the pod's network", async () => {
    const pod = played.services[0]!.pod;
    const [infra] = await podmanJson<{ InfraContainerID: string }[]>('pod', 'inspect', pod).then((p) => [p].flat());
    const [container] = await podmanJson<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }[]>(
      'container', 'inspect', infra!.InfraContainerID,
    );
    const address = container!.NetworkSettings.Networks[`podvoy-${name}`]!.IPAddress;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await accepts(address, 10000)).toBe(true);
    expect(await accepts(address, 8080)).toBe(false);
    expect(await accepts(address, 9901)).toBe(false);
    expect(await accepts('127.0.0.1', 9901)).toBe(false);
  });

  it('runs every container with runc, under conmon', async () => {
    const pod = played.services[0]!.pod;
    const containers = await podmanJson<{ Name: string; OCIRuntime: string; ConmonPidFile: string }[]>(
      'container', 'inspect', `${pod}-nginx`, `${pod}-envoy`,
    );
    expect(containers.map((c) => c.OCIRuntime)).toEqual(['runc', 'runc']);
  });

  it('lists the pod in ps --json', async () => {
    const { code, stdout } = await cli(['ps', '--json']);
    expect(code).toBe(0);
    const mine = (JSON.parse(stdout) as { spec: string; status: string; url: string; containers: { name: string }[] }[]).filter(
      (p) => p.spec === name,
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: 'Running', url: `http://127.0.0.1:${port}/` });
    expect(mine[0]!.containers.map((c) => c.name).sort()).toEqual([`${played.services[0]!.pod}-envoy`, `${played.services[0]!.pod}-nginx`]);
  });

  it('changes nothing when the same spec is played again', async () => {
    const again = await play(specFile, { roots: ws.roots });
    expect(again.services[0]).toMatchObject({ pod: played.services[0]!.pod, outcome: 'unchanged' });
  });

  it('keeps every access-log line of nginx, buffered, when its container stops', async () => {
    const pod = played.services[0]!.pod;
    const marker = `/log-${uniqueName('m')}.html`;
    for (let i = 0; i < 25; i++) expect((await fetch(new URL(marker, url))).status).toBe(404);
    // nginx writes its buffer when the worker stops (podman stop sends SIGTERM), not per request.
    await podmanLines('stop', '--time', '10', `${pod}-nginx`);
    try {
      const lines = (await podmanLines('logs', `${pod}-nginx`)).filter((l) => l.includes(`GET ${marker} `));
      expect(lines).toHaveLength(25);
    } finally {
      await podmanLines('start', `${pod}-nginx`);
    }
    await expect.poll(async () => (await fetch(url)).status, { timeout: 15_000, interval: 100 }).toBe(200);
  });

  it('replaces the pod when the spec changes, and down removes everything', async () => {
    const newPort = await freePort();
    await ws.writeSpec(`name: ${name}\nservices:\n  web:\n    static: ./site\n    sidecar:\n      publish: ${newPort}\n`);
    const replaced = await play(specFile, { roots: ws.roots });
    expect(replaced.services[0]).toMatchObject({ outcome: 'replaced', url: `http://127.0.0.1:${newPort}/` });
    expect(replaced.services[0]!.pod).not.toBe(played.services[0]!.pod);
    expect((await fetch(`http://127.0.0.1:${newPort}/`)).status).toBe(200);
    expect(await accepts('127.0.0.1', port)).toBe(false);
    expect((await ps()).filter((p) => p.spec === name).map((p) => p.name)).toEqual([replaced.services[0]!.pod]);

    const removed = await down(specFile, { roots: ws.roots });
    expect(removed).toEqual({ spec: name, pods: [replaced.services[0]!.pod], network: `podvoy-${name}` });
    expect(await podmanLines('pod', 'ps', '--filter', `label=io.podvoy.spec=${name}`, '--format', '{{.Name}}')).toEqual([]);
    expect(await podmanLines('ps', '-a', '--filter', `name=^${name}-`, '--format', '{{.Names}}')).toEqual([]);
    expect(await podmanLines('volume', 'ls', '--format', '{{.Name}}').then((v) => v.filter((n) => n.includes(name)))).toEqual([]);
    expect(await podmanLines('network', 'ls', '--format', '{{.Name}}').then((n) => n.includes(`podvoy-${name}`))).toBe(false);
    expect(await accepts('127.0.0.1', newPort)).toBe(false);
  });
});
