import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IN_POD } from '../../mesh/contract.js';
import { siteImageRepository } from '../../mesh/kube-names.js';
import type { Service, Spec } from '../../spec/model.js';
import { podman } from './podman.js';
import { imageBuildArgs } from './args.js';

/**
 * Site images for clusters: a host directory means nothing on a cluster, so each static
 * service becomes an image of nginx plus its site, tagged by a hash of what went into it.
 * A changed site is a new tag, hence a changed pod template and a rolling update.
 */


/** The Containerfile of a site image; part of the tag's hash, so a change to it is a new tag. */
export function siteContainerfile(nginxImage: string, spec: Pick<Spec, 'name'>, service: string): string {
  return [`FROM ${nginxImage}`, `COPY site/ ${IN_POD.siteRoot}/`, `LABEL io.podvoy.site=${spec.name}/${service}`, ''].join('\n');
}

/** podman push of a built image to the registry its name points at. */
export function imagePushArgs(image: string): string[] {
  return ['push', '--quiet', image];
}

/**
 * The files of a site as they go into its image, sorted: regular files and directories only.
 * Dotfiles (.git, .env) are left out, as nginx would never serve them, and symlinks, which
 * nginx does not follow.
 */
async function siteFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    const entries = (await readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  await walk('');
  return files;
}

/** The image a static service runs on a cluster: its repository, tagged by the site's content hash. */
export async function siteImageRef(spec: Spec, service: Service, nginxImage: string): Promise<string> {
  if (service.app.kind !== 'static') throw new Error(`podvoy bug: ${service.name} has no site`);
  const root = service.app.root;
  const hash = createHash('sha256').update(siteContainerfile(nginxImage, spec, service.name));
  for (const file of await siteFiles(root)) {
    const content = await readFile(path.join(root, file));
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return `${siteImageRepository(spec, service.name)}:${hash.digest('hex').slice(0, 12)}`;
}

/** The site image of every static service of a spec, by service name. */
export async function siteImageRefs(spec: Spec, nginxImage: string): Promise<Record<string, string>> {
  const refs: Record<string, string> = {};
  for (const service of spec.services) {
    if (service.app.kind === 'static') refs[service.name] = await siteImageRef(spec, service, nginxImage);
  }
  return refs;
}

export interface BuiltSiteImage {
  readonly service: string;
  readonly image: string;
  readonly pushed: boolean;
}

/** Builds (and with `push`, pushes) the site image of every static service. */
export async function buildSiteImages(
  spec: Spec,
  nginxImage: string,
  options: { push?: boolean; onProgress?: (line: string) => void } = {},
): Promise<BuiltSiteImage[]> {
  const built: BuiltSiteImage[] = [];
  for (const service of spec.services) {
    if (service.app.kind !== 'static') continue;
    const image = await siteImageRef(spec, service, nginxImage);
    options.onProgress?.(`building ${image} from ${service.app.root}`);
    const context = await mkdtemp(path.join(os.tmpdir(), 'podvoy-site-'));
    try {
      for (const file of await siteFiles(service.app.root)) {
        const to = path.join(context, 'site', file);
        await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
        await copyFile(path.join(service.app.root, file), to);
        // nginx runs as an unprivileged user: every file readable, whatever the host's modes.
        await chmod(to, 0o644);
      }
      await mkdir(path.join(context, 'site'), { recursive: true });
      await chmodDirs(path.join(context, 'site'));
      const containerfile = path.join(context, 'Containerfile');
      await writeFile(containerfile, siteContainerfile(nginxImage, spec, service.name));
      await podman(imageBuildArgs([image], containerfile, context), { timeoutMs: 300_000 });
    } finally {
      await rm(context, { recursive: true, force: true });
    }
    if (options.push) {
      options.onProgress?.(`pushing ${image}`);
      await podman(imagePushArgs(image), { timeoutMs: 600_000 });
    }
    built.push({ service: service.name, image, pushed: Boolean(options.push) });
  }
  return built;
}

async function chmodDirs(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir)) {
    const child = path.join(dir, entry);
    if ((await lstat(child)).isDirectory()) await chmodDirs(child);
  }
}
