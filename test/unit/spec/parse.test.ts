import { describe, expect, it } from 'vitest';
import { SpecError, type SpecProblem } from '../../../src/errors.js';
import { parseSpec, type SpecHost } from '../../../src/spec/parse.js';

const FILE = 'blog/podvoy.yaml';
const DIR = '/srv/blog';

/** An in-memory file system: sets of directories and files, and a map of symlinks to their targets. */
function fakeHost(
  dirs: readonly string[] = [],
  links: Readonly<Record<string, string>> = {},
  files: readonly string[] = [],
): SpecHost {
  const allDirs = new Set([DIR, `${DIR}/site`, `${DIR}/api-docs`, `${DIR}/tls`, ...dirs]);
  const allFiles = new Set([`${DIR}/tls/cert.pem`, `${DIR}/tls/key.pem`, ...files]);
  return {
    dir: DIR,
    absFile: `${DIR}/podvoy.yaml`,
    isDirectory: (p) => allDirs.has(p),
    isFile: (p) => allFiles.has(p),
    realpath: (p) => links[p] ?? p,
  };
}

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;
const withService = (...lines: string[]): string => yaml('name: blog', 'services:', '  web:', ...lines.map((l) => `    ${l}`));
/** A mesh of three services (lines 9-12) behind a gateway whose lines start at line 3. */
const withGateway = (...lines: string[]): string =>
  yaml(
    'name: shop',
    'gateway:',
    ...lines.map((l) => `  ${l}`),
    'services:',
    '  web: {static: ./site}',
    '  api: {image: ghcr.io/x/api:1, port: 3000}',
    '  canary: {image: ghcr.io/x/api:2, port: 3000}',
  );
/** One route to web behind a gateway on port 8080, and a service `blog` (line 7) to vary. */
const withMeshService = (...lines: string[]): string =>
  yaml(
    'name: shop',
    'gateway: {http: 8080, routes: [{service: blog}]}',
    'services:',
    '  api: {image: ghcr.io/x/api:1, port: 3000}',
    '  auth: {image: ghcr.io/x/auth:1, port: 3000}',
    '  blog:',
    ...lines.map((l) => `    ${l}`),
  );

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
      'no replicas',
      withService('static: ./site', 'replicas: 0'),
      'blog/podvoy.yaml:5:15: services.web.replicas: 0 is out of range. Use a number of replicas from 1 to 20.',
    ],
    [
      'replicas of a published sidecar',
      withService('static: ./site', 'replicas: 2', 'sidecar: {publish: 8080}'),
      'blog/podvoy.yaml:5:15: services.web.replicas: A published sidecar has one host port, so only one replica. Remove sidecar.publish (serve it through a gateway) or set replicas: 1.',
    ],
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

  it.each<[string, string, string]>([
    [
      'a route to a service that does not exist',
      withGateway('http: 8080', 'routes:', '- service: shop'),
      'blog/podvoy.yaml:5:14: gateway.routes[0].service: No service "shop". Services: web, api, canary.',
    ],
    [
      'a split to a service that does not exist',
      withGateway('http: 8080', 'routes:', '- split: {web: 90, cnary: 10}'),
      'blog/podvoy.yaml:5:22: gateway.routes[0].split.cnary: No service "cnary". Services: web, api, canary.',
    ],
    [
      'an upstream that is not a service',
      withMeshService('static: ./site', 'upstreams: {db: 9001}'),
      'blog/podvoy.yaml:8:17: services.blog.upstreams.db: No service "db". Services: api, auth, blog.',
    ],
    [
      'a service that is its own upstream',
      withMeshService('static: ./site', 'upstreams: {blog: 9001}'),
      'blog/podvoy.yaml:8:17: services.blog.upstreams.blog: A service cannot be its own upstream. Remove "blog"; the app reaches itself directly.',
    ],
    [
      'a proxy to a service that is not an upstream',
      withMeshService('static: ./site', 'upstreams: {api: 9001}', 'proxy: {/auth/: auth}'),
      `blog/podvoy.yaml:9:21: services.blog.proxy./auth/: "auth" is not one of this service's upstreams. Proxy to one of them (api), or add auth to upstreams.`,
    ],
    [
      'a proxy without upstreams',
      withMeshService('static: ./site', 'proxy: {/api/: api}'),
      `blog/podvoy.yaml:8:20: services.blog.proxy./api/: "api" is not one of this service's upstreams. It has none; add upstreams: {api: 9001} to the service.`,
    ],
    [
      'a proxy on an image app',
      withMeshService('image: ghcr.io/x/blog:1', 'port: 3000', 'upstreams: {api: 9001}', 'proxy: {/api/: api}'),
      'blog/podvoy.yaml:10:5: services.blog.proxy: proxy applies only to static sites. Remove it; an image app calls its upstreams on their ports itself.',
    ],
    [
      'a proxy prefix without a leading slash',
      withMeshService('static: ./site', 'upstreams: {api: 9001}', 'proxy: {api/: api}'),
      'blog/podvoy.yaml:9:13: services.blog.proxy.api/: The path prefix "api/" does not start with "/". Write it as "/api/".',
    ],
    [
      "an upstream on the app's port",
      withMeshService('static: ./site', 'upstreams: {api: 8080}'),
      "blog/podvoy.yaml:8:22: services.blog.upstreams.api: Port 8080 is also the app's port (the default for static sites). Pick another port for this upstream.",
    ],
    [
      "an upstream on the sidecar's port",
      withMeshService('image: ghcr.io/x/blog:1', 'port: 3000', 'sidecar: {port: 10001}', 'upstreams: {api: 10001}'),
      "blog/podvoy.yaml:10:22: services.blog.upstreams.api: Port 10001 is also the sidecar's port (services.blog.sidecar.port). Pick another port for this upstream.",
    ],
    [
      'two upstreams on one port',
      withMeshService('static: ./site', 'upstreams: {api: 9001, auth: 9001}'),
      'blog/podvoy.yaml:8:34: services.blog.upstreams.auth: Port 9001 is also the port of upstream "api" (services.blog.upstreams.api). Pick another port for this upstream.',
    ],
    [
      'an upstream on the Envoy admin port',
      withMeshService('static: ./site', 'upstreams: {api: 9901}'),
      "blog/podvoy.yaml:8:22: services.blog.upstreams.api: Port 9901 is reserved for Envoy's admin interface. Pick another port.",
    ],
    [
      'an upstream port below 1024',
      withMeshService('static: ./site', 'upstreams: {api: 80}'),
      'blog/podvoy.yaml:8:22: services.blog.upstreams.api: Port 80 is below 1024; ports below 1024 need root inside the container. Use a port from 1024 to 65535, e.g. 8080.',
    ],
    [
      'http and https on one host port',
      withGateway('http: 8080', 'https: "0.0.0.0:8080"', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:4:10: gateway.https: Host port 0.0.0.0:8080 clashes with gateway.http (127.0.0.1:8080). Give the gateway and each published sidecar a host port of their own.',
    ],
    [
      "a sidecar published on the gateway's port",
      yaml('name: shop', 'gateway: {http: "0.0.0.0:8080", routes: [{service: web}]}', 'services:', '  web: {static: ./site, sidecar: {publish: 8080}}'),
      'blog/podvoy.yaml:4:44: services.web.sidecar.publish: Host port 127.0.0.1:8080 clashes with gateway.http (0.0.0.0:8080). Give the gateway and each published sidecar a host port of their own.',
    ],
    [
      'tls without https',
      withGateway('http: 8080', 'tls: {cert: ./tls/cert.pem, key: ./tls/key.pem}', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:4:3: gateway.tls: tls applies only with https. Add https (e.g. https: 8443) or remove tls.',
    ],
    [
      'hsts without https',
      withGateway('http: 8080', 'hsts: false', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:4:3: gateway.hsts: hsts applies only with https. Add https (e.g. https: 8443) or remove hsts.',
    ],
    [
      'hsts that is not a boolean',
      withGateway('http: 8080', 'https: 8443', 'hsts: "yes"', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:5:9: gateway.hsts: Must be true or false, not the string "yes".',
    ],
    [
      'tls without a key',
      withGateway('http: 8080', 'https: 8443', 'tls: {cert: ./tls/cert.pem}', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:5:8: gateway.tls: Missing required key "key". Add the private key file (PEM), e.g. key: ./tls/key.pem.',
    ],
    [
      'a certificate that does not exist',
      withGateway('http: 8080', 'https: 8443', 'tls: {cert: ./cert.pem, key: ./tls/key.pem}', 'routes: [{service: web}]'),
      'blog/podvoy.yaml:5:15: gateway.tls.cert: ./cert.pem does not exist or is not a file. Create it or fix the path.',
    ],
    [
      'a key outside the folder via a symlink',
      withGateway('http: 8080', 'https: 8443', 'tls: {cert: ./tls/cert.pem, key: ./key-link.pem}', 'routes: [{service: web}]'),
      "blog/podvoy.yaml:5:36: gateway.tls.key: ./key-link.pem resolves to /etc/ssl/private/key.pem, outside the spec's folder /srv/blog. Move the file inside that folder; symlinks out of it are refused.",
    ],
    [
      'a gateway without http',
      withGateway('routes: [{service: web}]'),
      'blog/podvoy.yaml:3:3: gateway: Missing required key "http". Add the host port for plain HTTP, e.g. http: 8080.',
    ],
    [
      'a gateway without routes',
      withGateway('http: 8080'),
      'blog/podvoy.yaml:3:3: gateway: Missing required key "routes". Add at least one route, e.g. routes: [{service: web}].',
    ],
    [
      'a misspelt gateway key',
      withGateway('http: 8080', 'route: [{service: web}]'),
      'blog/podvoy.yaml:4:3: gateway.route: Unknown key "route". Did you mean "routes"?',
    ],
    [
      'an empty list of routes',
      withGateway('http: 8080', 'routes: []'),
      'blog/podvoy.yaml:4:11: gateway.routes: No routes are defined. Add at least one, e.g. routes: [{service: web}].',
    ],
    [
      'routes that are a map, not a list',
      withGateway('http: 8080', 'routes:', '  service: web'),
      'blog/podvoy.yaml:5:5: gateway.routes: Must be a list (items starting with "- "), not a map.',
    ],
    [
      'a route with both service and split',
      withGateway('http: 8080', 'routes:', '- service: web', '  split: {api: 1}'),
      'blog/podvoy.yaml:6:5: gateway.routes[0]: Has both service and split. Keep one: service sends every request to one service, split shares them out by weight.',
    ],
    [
      'a route with neither service nor split',
      withGateway('http: 8080', 'routes:', '- prefix: /api/'),
      'blog/podvoy.yaml:5:5: gateway.routes[0]: Needs service (the service that takes the requests) or split (services and their weights). Add one of them.',
    ],
    [
      'an empty route',
      withGateway('http: 8080', 'routes:', '-'),
      'blog/podvoy.yaml:5:4: gateway.routes[0]: Needs service (the service that takes the requests) or split (services and their weights). Add one of them.',
    ],
    [
      'an unknown route key',
      withGateway('http: 8080', 'routes:', '- {service: web, weight: 10}'),
      'blog/podvoy.yaml:5:20: gateway.routes[0].weight: Unknown key "weight". Remove it; the keys allowed here are prefix, host, service, split, timeout, retries.',
    ],
    [
      'a route with the same host and prefix as an earlier one',
      withGateway('http: 8080', 'routes:', '- {prefix: /api/, service: api}', '- {service: web}', '- {prefix: /api/, service: canary}'),
      'blog/podvoy.yaml:7:14: gateway.routes[2].prefix: Same host "*" and prefix "/api/" as gateway.routes[0] (line 5), so this route could never match. Remove it or change its host or prefix.',
    ],
    [
      'two routes that both default to any host and prefix /',
      withGateway('http: 8080', 'routes:', '- service: web', '- split: {api: 1}'),
      'blog/podvoy.yaml:6:5: gateway.routes[1]: Same host "*" and prefix "/" as gateway.routes[0] (line 5), so this route could never match. Remove it or change its host or prefix.',
    ],
    [
      'a split whose weights add up to 0',
      withGateway('http: 8080', 'routes:', '- split: {web: 0, api: 0}'),
      'blog/podvoy.yaml:5:12: gateway.routes[0].split: The weights add up to 0, so no request could be sent anywhere. Give at least one service a weight above 0.',
    ],
    [
      'an empty split',
      withGateway('http: 8080', 'routes:', '- split: {}'),
      'blog/podvoy.yaml:5:12: gateway.routes[0].split: Needs at least one service and its weight, e.g. split: {blog: 90, canary: 10}.',
    ],
    [
      'a weight out of range',
      withGateway('http: 8080', 'routes:', '- split: {web: 1001, api: 1}'),
      'blog/podvoy.yaml:5:18: gateway.routes[0].split.web: 1001 is out of range. Use a weight from 0 to 1000.',
    ],
    [
      'a weight that is a quoted number',
      withGateway('http: 8080', 'routes:', '- split: {web: "90", api: 10}'),
      'blog/podvoy.yaml:5:18: gateway.routes[0].split.web: Must be an integer, not the string "90". Remove the quotes.',
    ],
    [
      'a prefix without a leading slash',
      withGateway('http: 8080', 'routes: [{prefix: api/, service: api}]'),
      'blog/podvoy.yaml:4:21: gateway.routes[0].prefix: The path prefix "api/" does not start with "/". Write it as "/api/".',
    ],
    [
      'a prefix with a character outside the allowed ones',
      withGateway('http: 8080', 'routes: [{prefix: "/a b/", service: api}]'),
      'blog/podvoy.yaml:4:21: gateway.routes[0].prefix: The path prefix "/a b/" contains " ", which is not allowed. Use only letters, digits and . _ ~ / -.',
    ],
    [
      'a prefix that is too long',
      withGateway('http: 8080', `routes: [{prefix: /${'a'.repeat(200)}, service: api}]`),
      'blog/podvoy.yaml:4:21: gateway.routes[0].prefix: The path prefix is 201 characters long; at most 200 are allowed. Shorten it.',
    ],
    [
      'a host that is not a lowercase DNS name',
      withGateway('http: 8080', 'routes: [{host: Blog.localhost, service: web}]'),
      'blog/podvoy.yaml:4:19: gateway.routes[0].host: "Blog.localhost" is not a valid host. Write "*" for any host, a lowercase DNS name such as blog.example.com, or "*.example.com" for its subdomains.',
    ],
    [
      'a host with a wildcard inside',
      withGateway('http: 8080', 'routes: [{host: "blog.*.com", service: web}]'),
      'blog/podvoy.yaml:4:19: gateway.routes[0].host: "blog.*.com" is not a valid host. Write "*" for any host, a lowercase DNS name such as blog.example.com, or "*.example.com" for its subdomains.',
    ],
    [
      'a host that is too long',
      withGateway('http: 8080', `routes: [{host: ${Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.')}, service: web}]`),
      'blog/podvoy.yaml:4:19: gateway.routes[0].host: The host is 319 characters long; at most 253 are allowed. Shorten it.',
    ],
    [
      'an unquoted wildcard host',
      withGateway('http: 8080', 'routes:', '- host: *.example.com', '  service: web'),
      'blog/podvoy.yaml:5:11: YAML reads *.example.com as an alias. If you meant the text, quote it: "*.example.com".',
    ],
    [
      'an unquoted any-host *',
      withGateway('http: 8080', 'routes:', '- host: *', '  service: web'),
      'blog/podvoy.yaml:5:11: YAML reads * as an alias. If you meant the text, quote it: "*".',
    ],
    [
      'a timeout without a unit',
      withGateway('http: 8080', 'routes: [{service: web, timeout: 15}]'),
      'blog/podvoy.yaml:4:36: gateway.routes[0].timeout: Must be a duration such as 15s or 250ms, not the number 15. Add a unit: 15s or 15ms.',
    ],
    [
      'a timeout that is not a duration',
      withGateway('http: 8080', 'routes: [{service: web, timeout: 1.5s}]'),
      'blog/podvoy.yaml:4:36: gateway.routes[0].timeout: "1.5s" is not a duration. Write an integer and a unit (ms, s or m), e.g. 250ms, 15s or 2m.',
    ],
    [
      'a timeout over 10 minutes',
      withGateway('http: 8080', 'routes: [{service: web, timeout: 11m}]'),
      'blog/podvoy.yaml:4:36: gateway.routes[0].timeout: 11m is out of range. Use a timeout from 1ms to 15s: each sidecar ends a request after 15s, so a longer timeout could not hold.',
    ],
    [
      'a timeout of 0',
      withGateway('http: 8080', 'routes: [{service: web, timeout: 0s}]'),
      'blog/podvoy.yaml:4:36: gateway.routes[0].timeout: 0s is out of range. Use a timeout from 1ms to 15s.',
    ],
    [
      'too many retries',
      withGateway('http: 8080', 'routes: [{service: web, retries: 11}]'),
      'blog/podvoy.yaml:4:36: gateway.routes[0].retries: 11 is out of range. Use a number of retries from 0 to 10.',
    ],
    [
      'a health path without a leading slash',
      withMeshService('static: ./site', 'health: healthz'),
      'blog/podvoy.yaml:8:13: services.blog.health: The health path "healthz" does not start with "/". Write it as "/healthz".',
    ],
    [
      'a health path with a character outside the allowed ones',
      withMeshService('static: ./site', 'health: "/healthz#top"'),
      'blog/podvoy.yaml:8:13: services.blog.health: The health path "/healthz#top" contains "#", which is not allowed. Use only letters, digits and . _ ~ / - ? = &.',
    ],
    [
      'a service named like the gateway',
      yaml('name: shop', 'gateway: {http: 8080, routes: [{service: gateway}]}', 'services:', '  gateway: {static: ./site}'),
      `blog/podvoy.yaml:4:3: services.gateway: The name "gateway" is taken by the mesh's gateway. Rename the service.`,
    ],
  ])('a mesh with %s', (_, text, problem) => {
    const host = fakeHost([], { [`${DIR}/key-link.pem`]: '/etc/ssl/private/key.pem' }, [`${DIR}/key-link.pem`]);
    expect(messageOf(text, host)).toBe(`The spec has a problem:\n  ${problem}`);
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
  it('reports every problem of a mesh at once, in source order', () => {
    const text = yaml(
      'name: shop',
      'gateway:',
      '  http: 8080',
      '  hsts: true',
      '  routes:',
      '  - {prefix: /api, service: api}',
      '  - {prefix: /api, service: aip}',
      'services:',
      '  web:',
      '    static: ./site',
      '    upstreams: {api: 10000}',
      '    proxy: {/api/: apj}',
      '  api: {image: ghcr.io/x/api:1, port: 3000, sidecar: {publish: 8080}}',
    );
    expect(problemsOf(text).map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      '4:3 gateway.hsts',
      '7:14 gateway.routes[1].prefix',
      '7:29 gateway.routes[1].service',
      '11:22 services.web.upstreams.api',
      '12:20 services.web.proxy./api/',
      '13:64 services.api.sidecar.publish',
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
          app: { kind: 'static', root: `${DIR}/site`, port: 8080, proxy: [] },
          sidecar: { port: 10000, publish: { hostIP: '127.0.0.1', hostPort: 8080 } },
          upstreams: [],
          health: '/',
          replicas: 1,
        },
      ],
    });
    expect(spec).not.toHaveProperty('gateway');
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
    expect(spec.services[0]).toEqual({
      name: 'web',
      app: { kind: 'static', root: `${DIR}/site`, port: 8080, proxy: [] },
      sidecar: { port: 10000 },
      upstreams: [],
      health: '/',
      replicas: 1,
    });
    expect(spec.services[1]).toEqual({
      name: 'api',
      app: { kind: 'image', image: 'ghcr.io/acme/api:2.1', port: 3000, env: { MODE: 'prod', ['__proto__']: 'x', PORT: '3000' } },
      sidecar: { port: 10001, publish: { hostIP: '0.0.0.0', hostPort: 9090 } },
      upstreams: [],
      health: '/',
      replicas: 1,
    });
    expect(Object.keys((spec.services[1]?.app as { env: object }).env)).toEqual(['MODE', '__proto__', 'PORT']);
  });

  it('a mesh with https and a generated certificate, a split route and a service with upstreams and proxy', () => {
    const text = yaml(
      'name: shop',
      'gateway:',
      '  http: 8080',
      '  https: "0.0.0.0:8443"',
      '  routes:',
      '  - {host: blog.localhost, service: blog}',
      '  - prefix: /api/',
      '    split: {api: 90, canary: 10}',
      '    timeout: 250ms',
      '    retries: 0',
      '  - service: blog',
      'services:',
      '  blog:',
      '    static: ./site',
      '    upstreams: {api: 9001, canary: 9002}',
      '    proxy: {/api/: api, /next/api/: canary}',
      '    health: /healthz?probe=1&full=0',
      '  api: {image: ghcr.io/x/api:1, port: 3000, health: /ready}',
      '  canary: {image: ghcr.io/x/api:2, port: 3000, upstreams: {api: 9001}}',
    );
    const spec = parseSpec(text, FILE, fakeHost());
    expect(spec.gateway).toEqual({
      http: { hostIP: '127.0.0.1', hostPort: 8080 },
      https: { hostIP: '0.0.0.0', hostPort: 8443 },
      hsts: true,
      maxConnections: 10_000,
      routes: [
        { host: 'blog.localhost', prefix: '/', backends: [{ service: 'blog', weight: 100 }], timeoutMs: 15_000, retries: 2 },
        {
          host: '*',
          prefix: '/api/',
          backends: [
            { service: 'api', weight: 90 },
            { service: 'canary', weight: 10 },
          ],
          timeoutMs: 250,
          retries: 0,
        },
        { host: '*', prefix: '/', backends: [{ service: 'blog', weight: 100 }], timeoutMs: 15_000, retries: 2 },
      ],
    });
    expect(spec.gateway).not.toHaveProperty('tls');
    expect(spec.services).toEqual([
      {
        name: 'blog',
        app: {
          kind: 'static',
          root: `${DIR}/site`,
          port: 8080,
          proxy: [
            { prefix: '/api/', upstream: 'api' },
            { prefix: '/next/api/', upstream: 'canary' },
          ],
        },
        sidecar: { port: 10000 },
        upstreams: [
          { service: 'api', port: 9001 },
          { service: 'canary', port: 9002 },
        ],
        health: '/healthz?probe=1&full=0',
        replicas: 1,
      },
      { name: 'api', app: { kind: 'image', image: 'ghcr.io/x/api:1', port: 3000, env: {} }, sidecar: { port: 10000 }, upstreams: [], health: '/ready', replicas: 1 },
      {
        name: 'canary',
        app: { kind: 'image', image: 'ghcr.io/x/api:2', port: 3000, env: {} },
        sidecar: { port: 10000 },
        upstreams: [{ service: 'api', port: 9001 }],
        health: '/',
        replicas: 1,
      },
    ]);
  });

  it('a gateway with its own certificate (as real paths), HSTS off and wildcard hosts', () => {
    const text = yaml(
      'name: shop',
      'gateway:',
      '  http: 80',
      '  https: 443',
      '  tls: {cert: tls/cert.pem, key: ./current-key.pem}',
      '  hsts: false',
      '  routes:',
      '  - {host: "*.example.com", prefix: /v1.2/~docs/, service: web, timeout: 15s, retries: 10}',
      '  - {host: "*", split: {web: 1000, docs: 0}, timeout: 1ms}',
      'services:',
      '  web: {static: ./site}',
      '  docs: {static: ./api-docs, sidecar: {publish: 8080}}',
    );
    const host = fakeHost([], { [`${DIR}/current-key.pem`]: `${DIR}/tls/key.pem` }, [`${DIR}/current-key.pem`]);
    expect(parseSpec(text, FILE, host).gateway).toEqual({
      http: { hostIP: '127.0.0.1', hostPort: 80 },
      https: { hostIP: '127.0.0.1', hostPort: 443 },
      tls: { cert: `${DIR}/tls/cert.pem`, key: `${DIR}/tls/key.pem` },
      hsts: false,
      maxConnections: 10_000,
      routes: [
        { host: '*.example.com', prefix: '/v1.2/~docs/', backends: [{ service: 'web', weight: 100 }], timeoutMs: 15_000, retries: 10 },
        {
          host: '*',
          prefix: '/',
          backends: [
            { service: 'web', weight: 1000 },
            { service: 'docs', weight: 0 },
          ],
          timeoutMs: 1,
          retries: 2,
        },
      ],
    });
  });

  it('the same prefix on two hosts, and a gateway on another address of the same port as a sidecar', () => {
    const text = yaml(
      'name: shop',
      'gateway: {http: "127.0.0.1:8080", routes: [{host: a.localhost, service: web}, {host: b.localhost, service: web}]}',
      'services:',
      '  web: {static: ./site, sidecar: {publish: "192.168.1.10:8080"}}',
    );
    const spec = parseSpec(text, FILE, fakeHost());
    expect(spec.gateway?.routes.map((r) => [r.host, r.prefix])).toEqual([
      ['a.localhost', '/'],
      ['b.localhost', '/'],
    ]);
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
    expect(spec.services[0]?.app).toEqual({ kind: 'static', root: `${DIR}/releases/7`, port: 8080, proxy: [] });
  });

  it('anchors and aliases, but not merge keys', () => {
    const text = yaml('name: blog', 'services:', '  web: &site {static: ./site}', '  docs:', '    <<: *site');
    expect(messageOf(text)).toBe(
      'The spec has 2 problems:\n' +
        '  blog/podvoy.yaml:5:5: services.docs."<<": YAML merge keys (<<) are not supported. Write the keys out.\n' +
        '  blog/podvoy.yaml:5:5: services.docs: Needs static (a directory to serve) or image (an app to run). Add one of them.',
    );
    const spec = parseSpec(yaml('name: blog', 'services:', '  web: &site {static: ./site, port: 8081}', '  docs: *site'), FILE, fakeHost());
    expect(spec.services.map((s) => [s.name, s.app.port])).toEqual([
      ['web', 8081],
      ['docs', 8081],
    ]);
  });
});
