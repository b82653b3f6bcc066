/**
 * Hostile input, round two (issue 12), against the real readers: nginx checks the configs podvoy
 * renders, podman's YAML reader takes every environment value the spec accepts (and refuses what
 * the spec refuses), and a proxy prefix under a dot path reaches its upstream.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxTestArgs } from '../../src/engine/podman/args.js';
import { resolveImages } from '../../src/engine/podman/images.js';
import { play, render, type PlayResult } from '../../src/index.js';
import { freePort, podmanJson, uniqueName, workspace, type Workspace } from '../support/e2e.js';

const exec = promisify(execFile);

/** Runs podman and returns its exit code and what it said, failing or not. */
async function podmanRun(args: readonly string[]): Promise<{ code: number; said: string }> {
  try {
    const { stdout, stderr } = await exec('podman', [...args]);
    return { code: 0, said: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, said: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('hostile input against the real readers', () => {
  let ws: Workspace;
  /** The nginx image play picks, which the rendered configs are made for (its modules, say). */
  let nginxImage = '';

  beforeAll(async () => {
    ws = await workspace('mesh');
    nginxImage = (await resolveImages({})).nginx;
  });
  afterAll(async () => ws.cleanup());

  it('checks nginx configs with nginx -t in the nginx image: a rendered one passes, a second location / fails', async () => {
    const name = uniqueName('ngt');
    const file = await ws.writeSpec((await readFile(path.join(ws.dir, 'podvoy.yaml'), 'utf8')).replace(/^name: .*$/m, `name: ${name}`));
    const conf = (await render(file, { roots: ws.roots })).find((f) => f.path.endsWith('nginx.conf') && f.content.includes('location ^~ /blog-api/'))!;
    const good = path.join(ws.dir, 'good.conf');
    const bad = path.join(ws.dir, 'bad.conf');
    await writeFile(good, conf.content);
    await writeFile(bad, conf.content.replace('location ^~ /blog-api/', 'location /'));
    expect(await podmanRun(nginxTestArgs(nginxImage, good))).toEqual({ code: 0, said: '' });
    const refused = await podmanRun(nginxTestArgs(nginxImage, bad));
    expect(refused.code).not.toBe(0);
    expect(refused.said).toContain('duplicate location "/"');
  });

  describe("podman's YAML reader", () => {
    const created: string[] = [];
    afterAll(async () => {
      if (created.length) await podmanRun(['pod', 'rm', '--force', '--ignore', ...created]);
    });

    /** The files and directories a rendered pod mounts, as play would have made them. */
    async function makeMounts(podYaml: string): Promise<void> {
      const volumes = (parse(podYaml) as { spec: { volumes: { hostPath: { path: string; type: string } }[] } }).spec.volumes;
      for (const { hostPath } of volumes) {
        if (hostPath.type === 'Directory') await mkdir(hostPath.path, { recursive: true });
        else {
          await mkdir(path.dirname(hostPath.path), { recursive: true });
          await writeFile(hostPath.path, '', { flag: 'a' });
        }
      }
    }

    /** Creates (without starting) the pod of a rendered pod.yaml, as podvoy plays it. */
    async function createPod(podYaml: string): Promise<{ code: number; said: string }> {
      const pod = /^ {2}name: "([^"]+)"/m.exec(podYaml)?.[1];
      if (pod) created.push(pod);
      const file = path.join(ws.dir, `${pod ?? 'pod'}.yaml`);
      await writeFile(file, podYaml);
      return podmanRun(['kube', 'play', '--start=false', '--network', 'none', file]);
    }

    // Every kind of character the spec lets through in an environment value.
    const accepted: Record<string, string> = {
      TAB_NEWLINE: 'a\tb\nc',
      LINE_SEPARATORS: 'a\u2028b\u2029c',
      QUOTES: `"it's" \\ \`x\` $(id) {{pod}}`,
      YAML: '---\n- a: &b *c\n... # x',
      LATIN: 'ünïcødé \u00a0 \u00ad',
      ASTRAL: '😀 𝔘 \u{10fffd}',
      REPLACEMENT_AND_BOM: '\ufffd\ufeff',
      EMPTY: '',
    };

    it('takes every environment value the spec accepts, byte for byte', async () => {
      const name = uniqueName('env');
      const env = Object.entries(accepted).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`);
      const file = await ws.writeSpec([`name: ${name}`, 'services:', '  app:', `    image: ${nginxImage}`, '    port: 3000', '    env:', ...env, ''].join('\n'));
      const podYaml = (await render(file, { roots: ws.roots })).find((f) => f.path.endsWith('pod.yaml'))!.content;
      await makeMounts(podYaml);
      const made = await createPod(podYaml);
      expect(made.code, made.said).toBe(0);
      const pod = /^ {2}name: "([^"]+)"/m.exec(podYaml)![1]!;
      const [app] = await podmanJson<{ Config: { Env: string[] } }[]>('container', 'inspect', `${pod}-app`);
      const seen = Object.fromEntries(app!.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      for (const [k, v] of Object.entries(accepted)) expect(seen[k], k).toBe(v);
    });

    it('takes a site folder whose name has spaces, quotes, a line separator and other scripts', async () => {
      const name = uniqueName('dir');
      const folder = 'my site "ü" \u2028 😀 \\ {{x}}';
      await mkdir(path.join(ws.dir, folder), { recursive: true });
      const file = await ws.writeSpec([`name: ${name}`, 'services:', '  web:', `    static: ${JSON.stringify(`./${folder}`)}`, ''].join('\n'));
      const podYaml = (await render(file, { roots: ws.roots })).find((f) => f.path.endsWith('pod.yaml'))!.content;
      await makeMounts(podYaml);
      const made = await createPod(podYaml);
      expect(made.code, made.said).toBe(0);
      const pod = /^ {2}name: "([^"]+)"/m.exec(podYaml)![1]!;
      const [nginx] = await podmanJson<{ Mounts: { Source: string; Destination: string }[] }[]>('container', 'inspect', `${pod}-nginx`);
      expect(nginx!.Mounts.find((m) => m.Destination === '/srv/site')?.Source).toBe(path.join(ws.dir, folder));
    });

    // What the spec refuses in env values and paths, raw in a pod.yaml: podman's reader refuses it too.
    it.each([
      ['DEL', '\u007f'],
      ['a C1 control character', '\u009b'],
      ['U+FFFE', '\ufffe'],
    ])('refuses %s raw in a pod.yaml, as the spec does', async (_, char) => {
      const pod = uniqueName('raw');
      const podYaml = [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        `  name: "${pod}"`,
        'spec:',
        '  containers:',
        '  - name: app',
        `    image: "${nginxImage}"`,
        `    env: [{name: A, value: "x${char}y"}]`,
        '',
      ].join('\n');
      const made = await createPod(podYaml);
      expect(made.code).not.toBe(0);
      expect(made.said).toContain('control characters are not allowed');
    });
  });

  describe('a proxy prefix under a dot path', () => {
    let played: PlayResult;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      const name = uniqueName('acme');
      await mkdir(path.join(ws.dir, 'api', '.well-known', 'acme-challenge'), { recursive: true });
      const file = await ws.writeSpec(
        [
          `name: ${name}`,
          'gateway:',
          `  http: ${port}`,
          '  routes: [{service: blog}]',
          'services:',
          '  blog:',
          '    static: ./blog',
          '    upstreams: {api: 9001}',
          '    proxy: {/.well-known/acme-challenge/: api}',
          '  api:',
          '    static: ./api',
          '    health: /api/posts.json',
          '',
        ].join('\n'),
      );
      played = await play(file, { roots: ws.roots });
    });

    it('reaches its upstream; the dotfile rule still guards every other dot path', async () => {
      const token = `/.well-known/acme-challenge/${uniqueName('token')}`;
      const res = await request(`http://127.0.0.1:${port}${token}`);
      await res.body.text();
      // The api's own nginx answers (404: its dotfile rule), and its access log shows the request.
      // nginx writes its access log each second (buffered): poll for the line.
      const logsOf = async (pod: string) => {
        const logs = await exec('podman', ['logs', `${pod}-nginx`]);
        return `${logs.stdout}${logs.stderr}`;
      };
      const api = played.services.find((s) => s.service === 'api')!.pod;
      await expect.poll(() => logsOf(api), { timeout: 10_000, interval: 200 }).toContain(`GET ${token} `);
      const blog = played.services.find((s) => s.service === 'blog')!.pod;
      await expect.poll(() => logsOf(blog), { timeout: 10_000, interval: 200 }).toContain(`GET ${token} `);
      // Another dot path stays the blog's, refused by its dotfile rule, and never reaches the api.
      const other = await request(`http://127.0.0.1:${port}/.well-known/security.txt`);
      await other.body.text();
      expect(other.statusCode).toBe(404);
      // Once the blog's log shows it, and a flush of the api's later, the api's still does not.
      await expect.poll(() => logsOf(blog), { timeout: 10_000, interval: 200 }).toContain('GET /.well-known/security.txt ');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await logsOf(api)).not.toContain('security.txt');
    });
  });
});
