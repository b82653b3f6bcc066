import { describe, expect, it } from 'vitest';
import { SpecError, type SpecProblem } from '../../../src/errors.js';
import { parseSpec, type SpecHost } from '../../../src/spec/parse.js';

const FILE = 'blog/podvoy.yaml';
const DIR = '/srv/blog';

/** An in-memory file system: a set of directories and a map of symlinks to their targets. */
function fakeHost(dirs: readonly string[] = [], links: Readonly<Record<string, string>> = {}): SpecHost {
  const all = new Set([DIR, `${DIR}/site`, `${DIR}/api-docs`, ...dirs]);
  return {
    dir: DIR,
    absFile: `${DIR}/podvoy.yaml`,
    isDirectory: (p) => all.has(p),
    realpath: (p) => links[p] ?? p,
  };
}

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
const withService = (...lines: string[]): string => yaml('name: blog', 'services:', '  web:', ...lines.map((l) => `    ${l}`));

function problemsOf(text: string, host = fakeHost()): readonly SpecProblem[] {
  try {
    parseSpec(text, FILE, host);
  } catch (error) {
    if (error instanceof SpecError) return error.problems;
    throw error;
  }
  throw new Error('expected a SpecError');
}

function messageOf(text: string, host = fakeHost()): string {
  try {
    parseSpec(text, FILE, host);
  } catch (error) {
    if (error instanceof SpecError) return error.message;
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('parseSpec rejects', () => {
  it.each<[string, string, string]>([
    [
      'a YAML syntax error',
      yaml('name: blog', 'services: [web', 'x: 1'),
      'blog/podvoy.yaml:3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]. Fix the YAML at this position.',
    ],
    ['an empty document', yaml('# nothing yet'), 'blog/podvoy.yaml:1:1: The spec is empty. Start from examples/blog/podvoy.yaml.'],
    [
      'a top level that is not a map',
      yaml('- name: blog'),
      'blog/podvoy.yaml:1:1: The spec must be a map with the keys name and services, not a list. Start from examples/blog/podvoy.yaml.',
    ],
    [
      'more than one document',
      yaml('name: blog', '---', 'name: other'),
      'blog/podvoy.yaml:2:1: The spec must be a single YAML document. Remove the extra --- line.',
    ],
    [
      'an alias without anchor',
      yaml('name: *n', 'services: {web: {static: ./site}}'),
      'blog/podvoy.yaml:1:7: YAML alias *n has no anchor before it. Define &n first.',
    ],
    [
      'an unknown key close to a known one',
      yaml('name: blog', 'servces:', '  web: {static: ./site}'),
      'blog/podvoy.yaml:2:1: servces: Unknown key "servces". Did you mean "services"?',
    ],
    [
      'an unknown nested key, listing the allowed ones',
      withService('static: ./site', 'sidecar:', '  listen: 10000'),
      'blog/podvoy.yaml:6:7: services.web.sidecar.listen: Unknown key "listen". Remove it; the keys allowed here are port, publish.',
    ],
    [
      'a duplicate key',
      withService('static: ./site', 'static: ./other'),
      'blog/podvoy.yaml:5:5: services.web.static: Duplicate key "static" (first at line 4). Remove or rename one of them.',
    ],
    ['an empty key', yaml('name: blog', ': x', 'services: {web: {static: ./site}}'), 'blog/podvoy.yaml:2:1: A key is empty. Write a name before the colon.'],
    [
      'a key that is not a word',
      yaml('name: blog', '[a]: y', 'services: {web: {static: ./site}}'),
      'blog/podvoy.yaml:2:1: Keys must be plain words, not a list. Rewrite this key.',
    ],
    ['a name that is not a string', yaml('name: [blog]', 'services: {web: {static: ./site}}'), 'blog/podvoy.yaml:1:7: name: Must be a string, not a list.'],
    [
      'services that are not a map',
      yaml('name: blog', 'services:', '  - web'),
      'blog/podvoy.yaml:3:3: services: Must be a map (key: value pairs), not a list.',
    ],
    [
      'a port that is a quoted number',
      withService('image: ghcr.io/x/api:1', 'port: "8080"'),
      'blog/podvoy.yaml:5:11: services.web.port: Must be an integer port number, not the string "8080". Remove the quotes.',
    ],
    ['a float port', withService('static: ./site', 'port: 8080.5'), 'blog/podvoy.yaml:5:11: services.web.port: Must be an integer port number, not the number 8080.5.'],
    [
      'a port out of range',
      withService('static: ./site', 'port: 70000'),
      'blog/podvoy.yaml:5:11: services.web.port: Port 70000 is out of range. Use a port from 1024 to 65535.',
    ],
    [
      'a port below 1024',
      withService('static: ./site', 'port: 80'),
      'blog/podvoy.yaml:5:11: services.web.port: Port 80 is below 1024; ports below 1024 need root inside the container. Use a port from 1024 to 65535, e.g. 8080.',
    ],
    [
      'a host port out of range',
      withService('static: ./site', 'sidecar: {publish: 0}'),
      'blog/podvoy.yaml:5:24: services.web.sidecar.publish: Port 0 is out of range. Use a host port from 1 to 65535.',
    ],
    [
      'an invalid name',
      yaml('name: My_Blog', 'services: {web: {static: ./site}}'),
      'blog/podvoy.yaml:1:7: name: "My_Blog" is not a valid name. Use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.',
    ],
    [
      'a name that is too long',
      yaml('name: blog', 'services:', '  a-very-long-service-name: {static: ./site}'),
      'blog/podvoy.yaml:3:3: services.a-very-long-service-name: "a-very-long-service-name" is 24 characters long; names may have at most 20. Shorten it.',
    ],
    [
      'a missing name',
      yaml('services:', '  web: {static: ./site}'),
      'blog/podvoy.yaml:1:1: Missing required key "name". Add a name for the deployment, e.g. name: blog.',
    ],
    [
      'missing services',
      yaml('name: blog'),
      'blog/podvoy.yaml:1:1: Missing required key "services". Add at least one service, e.g. services: {web: {static: ./site}}.',
    ],
    [
      'empty services',
      yaml('name: blog', 'services: {}'),
      'blog/podvoy.yaml:2:11: services: No services are defined. Add at least one, e.g. web: {static: ./site}.',
    ],
    [
      'both static and image',
      withService('static: ./site', 'image: ghcr.io/x/api:1', 'port: 3000'),
      'blog/podvoy.yaml:5:5: services.web: Has both static and image. Keep one: static serves a directory with nginx, image runs an app.',
    ],
    [
      'neither static nor image',
      withService('port: 3000'),
      'blog/podvoy.yaml:4:5: services.web: Needs static (a directory to serve) or image (an app to run). Add one of them.',
    ],
    [
      'an empty service',
      yaml('name: blog', 'services:', '  web:'),
      'blog/podvoy.yaml:3:3: services.web: Needs static (a directory to serve) or image (an app to run). Add one of them.',
    ],
    [
      'an image without port',
      withService('image: ghcr.io/x/api:1'),
      'blog/podvoy.yaml:4:5: services.web: Missing required key "port" for an image app. Add the port the app listens on, e.g. port: 8080.',
    ],
    [
      'env with static',
      withService('static: ./site', 'env: {MODE: prod}'),
      'blog/podvoy.yaml:5:5: services.web.env: env applies only to image apps. Remove it.',
    ],
    [
      'a non-string env value',
      withService('image: ghcr.io/x/api:1', 'port: 3000', 'env:', '  DEBUG: true'),
      'blog/podvoy.yaml:7:14: services.web.env.DEBUG: Must be a string, not the boolean true. Quote it: "true".',
    ],
    [
      'an empty env value',
      withService('image: ghcr.io/x/api:1', 'port: 3000', 'env:', '  TOKEN:'),
      'blog/podvoy.yaml:7:7: services.web.env.TOKEN: Must be a string, not an empty value. Write "" for an empty string.',
    ],
    [
      'a bad env key',
      withService('image: ghcr.io/x/api:1', 'port: 3000', 'env:', '  2FA: "on"'),
      'blog/podvoy.yaml:7:7: services.web.env.2FA: "2FA" is not a valid environment variable name. Use letters, digits and underscores, not starting with a digit.',
    ],
    [
      'a bad image reference',
      withService('image: "ghcr.io/x/api:1; rm -rf /"', 'port: 3000'),
      'blog/podvoy.yaml:4:12: services.web.image: "ghcr.io/x/api:1; rm -rf /" is not a valid image reference. Write it like docker.io/library/nginx:1.27 (lowercase name, optional :tag and @sha256:digest).',
    ],
    [
      'an uppercase image override',
      yaml('name: blog', 'images: {nginx: Nginx}', 'services: {web: {static: ./site}}'),
      'blog/podvoy.yaml:2:17: images.nginx: "Nginx" is not a valid image reference. Write it like docker.io/library/nginx:1.27 (lowercase name, optional :tag and @sha256:digest).',
    ],
    [
      'an image reference that is too long',
      withService(`image: ghcr.io/${'x'.repeat(250)}:1`, 'port: 3000'),
      'blog/podvoy.yaml:4:12: services.web.image: The image reference is 260 characters long; at most 255 are allowed. Use a shorter one.',
    ],
    [
      'a publish string that is not IP:PORT',
      withService('static: ./site', 'sidecar:', '  publish: "localhost:8080"'),
      'blog/podvoy.yaml:6:16: services.web.sidecar.publish: "localhost:8080" is not an IPv4 address and port. Write it as "IP:PORT", e.g. "0.0.0.0:8080", or give just a port number.',
    ],
    [
      'a publish address that is not IPv4',
      withService('static: ./site', 'sidecar:', '  publish: "256.0.0.1:8080"'),
      'blog/podvoy.yaml:6:16: services.web.sidecar.publish: "256.0.0.1:8080" is not an IPv4 address and port. Write it as "IP:PORT", e.g. "0.0.0.0:8080", or give just a port number.',
    ],
    [
      'a publish that is neither',
      withService('static: ./site', 'sidecar:', '  publish: true'),
      'blog/podvoy.yaml:6:16: services.web.sidecar.publish: Must be a host port number or an "IP:PORT" string, not the boolean true.',
    ],
    [
      'a static directory that does not exist',
      withService('static: ./public'),
      'blog/podvoy.yaml:4:13: services.web.static: ./public does not exist or is not a directory. Create it or fix the path.',
    ],
    [
      'a static directory outside the folder via ..',
      withService('static: ../shared'),
      "blog/podvoy.yaml:4:13: services.web.static: ../shared resolves to /srv/shared, outside the spec's folder /srv/blog. Move the directory inside that folder; symlinks out of it are refused.",
    ],
    [
      'a static directory outside the folder via a symlink',
      withService('static: ./link'),
      "blog/podvoy.yaml:4:13: services.web.static: ./link resolves to /etc, outside the spec's folder /srv/blog. Move the directory inside that folder; symlinks out of it are refused.",
    ],
    [
      'an absolute static directory outside the folder',
      withService('static: /srv/blogger'),
      "blog/podvoy.yaml:4:13: services.web.static: /srv/blogger resolves to /srv/blogger, outside the spec's folder /srv/blog. Move the directory inside that folder; symlinks out of it are refused.",
    ],
    [
      'an app port equal to the sidecar port',
      withService('static: ./site', 'sidecar: {port: 8080}'),
      "blog/podvoy.yaml:5:21: services.web.sidecar.port: Port 8080 is also the app's port (the default for static sites). Give the sidecar another port.",
    ],
    [
      'an app port equal to the default sidecar port',
      withService('image: ghcr.io/x/api:1', 'port: 10000'),
      "blog/podvoy.yaml:5:11: services.web.port: Port 10000 is also the sidecar's port (the default). Pick another port, or set sidecar.port.",
    ],
    [
      'the Envoy admin port',
      withService('image: ghcr.io/x/api:1', 'port: 9901'),
      "blog/podvoy.yaml:5:11: services.web.port: Port 9901 is reserved for Envoy's admin interface. Pick another port.",
    ],
    [
      'a host port published twice',
      yaml(
        'name: blog',
        'services:',
        '  web: {static: ./site, sidecar: {publish: "0.0.0.0:8080"}}',
        '  docs: {static: ./api-docs, sidecar: {port: 10001, publish: 8080}}',
      ),
      'blog/podvoy.yaml:4:62: services.docs.sidecar.publish: Host port 127.0.0.1:8080 clashes with services.web.sidecar.publish (0.0.0.0:8080). Publish each service on its own port.',
    ],
  ])('%s', (_, text, problem) => {
    expect(messageOf(text, fakeHost([`/srv/shared`, `${DIR}/link`, '/srv/blogger'], { [`${DIR}/link`]: '/etc' }))).toBe(
      `The spec has a problem:\n  ${problem}`,
    );
  });

  it('reports every problem at once, in source order', () => {
    const text = yaml(
      'name: Blog',
      'services:',
      '  web:',
      '    statik: ./site',
      '    port: 80',
      '  api:',
      '    image: ghcr.io/x/api:1',
      '    port: 9901',
    );
    expect(problemsOf(text)).toEqual([
      {
        file: FILE,
        line: 1,
        column: 7,
        path: 'name',
        message: '"Blog" is not a valid name. Use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.',
      },
      { file: FILE, line: 4, column: 5, path: 'services.web.statik', message: 'Unknown key "statik". Did you mean "static"?' },
      {
        file: FILE,
        line: 5,
        column: 11,
        path: 'services.web.port',
        message: 'Port 80 is below 1024; ports below 1024 need root inside the container. Use a port from 1024 to 65535, e.g. 8080.',
      },
      { file: FILE, line: 8, column: 11, path: 'services.api.port', message: "Port 9901 is reserved for Envoy's admin interface. Pick another port." },
    ]);
  });
});

describe('parseSpec accepts', () => {
  it('a static site, filling in the defaults', () => {
    const spec = parseSpec(withService('static: ./site', 'sidecar: {publish: 8080}'), FILE, fakeHost());
    expect(spec).toEqual({
      name: 'blog',
      file: `${DIR}/podvoy.yaml`,
      dir: DIR,
      images: {},
      services: [
        {
          name: 'web',
          app: { kind: 'static', root: `${DIR}/site`, port: 8080 },
          sidecar: { port: 10000, publish: { hostIP: '127.0.0.1', hostPort: 8080 } },
        },
      ],
    });
  });

  it('image apps, pinned images, env and an explicit publish address, in spec order', () => {
    const digest = 'a'.repeat(64);
    const text = yaml(
      'name: shop',
      'images:',
      '  nginx: docker.io/library/nginx:1.27',
      `  envoy: localhost:5000/envoyproxy/envoy:v1.36.2@sha256:${digest}`,
      'services:',
      '  web:',
      '    static: site/',
      '  api:',
      '    image: ghcr.io/acme/api:2.1',
      '    port: 3000',
      '    env: {MODE: prod, __proto__: "x", PORT: "3000"}',
      '    sidecar: {port: 10001, publish: "0.0.0.0:9090"}',
    );
    const spec = parseSpec(text, FILE, fakeHost());
    expect(spec.images).toEqual({ nginx: 'docker.io/library/nginx:1.27', envoy: `localhost:5000/envoyproxy/envoy:v1.36.2@sha256:${digest}` });
    expect(spec.services.map((s) => s.name)).toEqual(['web', 'api']);
    expect(spec.services[0]).toEqual({ name: 'web', app: { kind: 'static', root: `${DIR}/site`, port: 8080 }, sidecar: { port: 10000 } });
    expect(spec.services[1]).toEqual({
      name: 'api',
      app: { kind: 'image', image: 'ghcr.io/acme/api:2.1', port: 3000, env: { MODE: 'prod', ['__proto__']: 'x', PORT: '3000' } },
      sidecar: { port: 10001, publish: { hostIP: '0.0.0.0', hostPort: 9090 } },
    });
    expect(Object.keys((spec.services[1]?.app as { env: object }).env)).toEqual(['MODE', '__proto__', 'PORT']);
  });

  it('one host port on two different addresses', () => {
    const text = yaml(
      'name: blog',
      'services:',
      '  web: {static: ./site, sidecar: {publish: "127.0.0.1:8080"}}',
      '  docs: {static: ./api-docs, sidecar: {publish: "192.168.1.10:8080"}}',
    );
    expect(parseSpec(text, FILE, fakeHost()).services.map((s) => s.sidecar.publish)).toEqual([
      { hostIP: '127.0.0.1', hostPort: 8080 },
      { hostIP: '192.168.1.10', hostPort: 8080 },
    ]);
  });

  it.each([
    'nginx',
    'nginx:1.27-alpine',
    'localhost/podvoy-envoy:dev',
    'quay.io/org/img_name__x:v1.0_rc',
    `registry.example.com:5000/a/b-c@sha256:${'0'.repeat(64)}`,
  ])('the image reference %s', (ref) => {
    const spec = parseSpec(yaml('name: blog', `images: {envoy: "${ref}"}`, 'services: {web: {static: ./site}}'), FILE, fakeHost());
    expect(spec.images.envoy).toBe(ref);
  });

  it.each(['nginx:', 'nginx latest', 'ghcr.io/x/$IMAGE', 'ghcr.io/x/{y}', 'ghcr.io//x', 'x@sha256:abc', "x'y"])(
    'but not the image reference %s',
    (ref) => {
      const problems = problemsOf(yaml('name: blog', `images: {envoy: ${JSON.stringify(ref)}}`, 'services: {web: {static: ./site}}'));
      expect(problems.map((p) => p.path)).toEqual(['images.envoy']);
      expect(problems[0]?.message).toMatch(/ is not a valid image reference\. /);
    },
  );

  it('a static directory reached through a symlink that stays inside, as its real path', () => {
    const host = fakeHost([`${DIR}/current`], { [`${DIR}/current`]: `${DIR}/releases/7` });
    const spec = parseSpec(withService('static: ./current'), FILE, host);
    expect(spec.services[0]?.app).toEqual({ kind: 'static', root: `${DIR}/releases/7`, port: 8080 });
  });

  it('anchors and aliases, but not merge keys', () => {
    const text = yaml('name: blog', 'services:', '  web: &site {static: ./site}', '  docs:', '    <<: *site');
    expect(messageOf(text)).toBe(
      'The spec has 2 problems:\n' +
        '  blog/podvoy.yaml:5:5: services.docs.<<: Unknown key "<<". Remove it; the keys allowed here are static, image, port, env, sidecar.\n' +
        '  blog/podvoy.yaml:5:5: services.docs: Needs static (a directory to serve) or image (an app to run). Add one of them.',
    );
    const spec = parseSpec(yaml('name: blog', 'services:', '  web: &site {static: ./site, port: 8081}', '  docs: *site'), FILE, fakeHost());
    expect(spec.services.map((s) => [s.name, s.app.port])).toEqual([
      ['web', 8081],
      ['docs', 8081],
    ]);
  });
});
