import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagePushArgs, siteContainerfile, siteImageRef } from '../../../../src/engine/podman/site-images.js';
import type { Service, Spec } from '../../../../src/spec/model.js';

describe('site images', () => {
  let root: string;
  const spec = (registry?: string) => ({ name: 'blog', ...(registry ? { kubernetes: { registry } } : {}) }) as Spec;
  const service = () => ({ name: 'web', app: { kind: 'static', root, port: 8080, proxy: [] } }) as unknown as Service;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'podvoy-site-test-'));
    await mkdir(path.join(root, 'posts'));
    await writeFile(path.join(root, 'index.html'), '<h1>hi</h1>\n');
    await writeFile(path.join(root, 'posts/a.html'), 'a\n');
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('builds FROM the nginx image, with the site where nginx.conf serves it', () => {
    expect(siteContainerfile('localhost/podvoy/nginx:1.22.1', { name: 'blog' }, 'web')).toBe(
      'FROM localhost/podvoy/nginx:1.22.1\nCOPY site/ /srv/site/\nLABEL io.podvoy.site=blog/web\n',
    );
    expect(imagePushArgs('registry.example.com/team/blog-web:0123')).toEqual(['push', '--quiet', 'registry.example.com/team/blog-web:0123']);
  });

  it('is tagged by the site content: equal sites share a tag, a changed file, base or registry does not', async () => {
    const first = await siteImageRef(spec(), service(), 'localhost/podvoy/nginx:1');
    expect(first).toMatch(/^localhost\/podvoy\/blog-web:[0-9a-f]{12}$/);
    expect(await siteImageRef(spec(), service(), 'localhost/podvoy/nginx:1')).toBe(first);
    // Dotfiles and symlinks never go into the image, so they do not change the tag.
    await writeFile(path.join(root, '.env'), 'SECRET=1\n');
    await symlink('/etc/passwd', path.join(root, 'passwd.html'));
    expect(await siteImageRef(spec(), service(), 'localhost/podvoy/nginx:1')).toBe(first);
    expect(await siteImageRef(spec(), service(), 'localhost/podvoy/nginx:2')).not.toBe(first);
    expect(await siteImageRef(spec('registry.example.com/team'), service(), 'localhost/podvoy/nginx:1')).toMatch(/^registry\.example\.com\/team\/blog-web:/);
    await writeFile(path.join(root, 'posts/a.html'), 'b\n');
    expect(await siteImageRef(spec(), service(), 'localhost/podvoy/nginx:1')).not.toBe(first);
  });
});
