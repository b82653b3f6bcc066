/**
 * Turns a spec's text into the validated, defaulted {@link Spec}. Pure: the file system is reached
 * only through {@link SpecHost}. Three steps: the YAML document is read and checked as YAML
 * (document.ts); each section is validated into the raw shape (top-level.ts, services.ts,
 * sidecar.ts, gateway.ts, routes.ts, over the readers of fields.ts), every problem collected
 * with its path and position and all thrown together as one SpecError; and only then
 * {@link applyDefaults} fills in the defaults.
 *
 * The schema:
 * ```yaml
 * name: shop                   # required; a DNS label ([a-z]([a-z0-9-]*[a-z0-9])?) of at most 20 characters
 * images:                      # optional; pins the images podvoy runs (keys: nginx, envoy)
 *   nginx: docker.io/library/nginx:1.27
 *   envoy: docker.io/envoyproxy/envoy:v1.36.2
 * gateway:                     # optional; a spec with a gateway is a mesh, entered through one Envoy
 *   http: 8080                 # required; host port on 127.0.0.1, or "IP:PORT" such as "0.0.0.0:8080"
 *   https: 8443                # optional, same form; then plain HTTP only redirects to HTTPS
 *   tls:                       # optional, only with https; without it podvoy generates a self-signed pair
 *     cert: ./tls/cert.pem     # PEM files inside the spec's folder, relative to it; both keys required
 *     key: ./tls/key.pem
 *   hsts: true                 # optional, only with https; default true
 *   maxConnections: 10000      # optional, 1-1000000: connections the gateway accepts at once
 *   routes:                    # required: a list of at least one; the first route that matches takes a request
 *   - prefix: /api/            # optional, default "/"; starts with "/"; letters, digits and . _ ~ / -; <= 200 characters
 *     host: blog.localhost     # optional, default "*" (any host); a lowercase DNS name, or "*.example.com" (quoted)
 *     service: api             # the service that takes the requests; or else:
 *     split: {blog: 90, canary: 10}  # services and integer weights 0-1000, relative to each other, not all 0
 *     timeout: 15s             # optional, default 15s; an integer and a unit (ms, s, m), from 1ms to 15s (what the sidecars hold)
 *     retries: 2               # optional, default 2; 0-10
 * mtls: false                  # optional; see spec/mtls.ts: mTLS on every hop of a mesh (default), a CA, lifetimes
 * services:                    # required, at least one; each key is a service name (DNS label, <= 20 characters)
 *   web:
 *     static: ./site           # a directory inside the spec's folder, relative to it; or else:
 *     image: ghcr.io/x/y:1     # an app image; then `port` is required
 *     port: 8080               # the app's port inside the pod, 1024-65535; static default 8080
 *     env: {KEY: value}        # image apps only; string values (quote numbers and booleans)
 *     upstreams: {api: 9001}   # optional; services this one calls, each reached on its own 127.0.0.1 port
 *                              #   in the pod (1024-65535), where the sidecar forwards the calls
 *     proxy: {/api/: api}      # optional, static only; path prefixes (as in routes, not /) nginx forwards to an upstream
 *     health: /                # optional, default "/"; the path checked for health; like a prefix, plus ? = &
 *     replicas: 2              # optional, 1-20, default 1: pods of the service; more than one cannot publish
 *     site: {notFound: 404.html}  # optional, static only: index names, 404 page, trailing slashes,
 *                              #   caching and CSP; see site.ts
 *     allow: [gateway, blog]   # optional, mesh with mTLS only; who may call the service (default every member)
 *     sidecar:                 # optional
 *       port: 10000            # Envoy's inbound port inside the pod, 1024-65535; default 10000
 *       publish: 8080          # optional host port on 127.0.0.1, or "IP:PORT" such as "0.0.0.0:8080"
 * kubernetes:                  # optional; read only by the Kubernetes target
 *   registry: localhost/podvoy # where site images are pushed and pulled; default localhost/podvoy
 *   expose: NodePort           # or LoadBalancer: how the gateway and published sidecars are reached
 *   nodePorts: {http: 30081, https: 30443}  # the gateway's node ports, 30000-32767
 * ```
 * Unknown keys are errors, and so are YAML tags, encodings other than UTF-8, nesting deeper than 32,
 * env values and paths with characters podman's reader refuses, and static sites that would
 * serve the spec, a TLS file or podvoy's directories (see README.md, Security). Ports are
 * integers; 9901 is reserved for Envoy's admin interface. Routes and upstreams name services of
 * the spec; the ports inside a pod, and the host ports of the gateway and the sidecars, must all
 * differ.
 */
import { isMap, isScalar } from 'yaml';
import { SpecContext } from './context.js';
import { applyDefaults } from './defaults.js';
import { readDocument } from './document.js';
import type { SpecHost } from './host.js';
import type { Spec } from './model.js';
import { describe } from './positions.js';
import { readSpec } from './top-level.js';

export type { SpecHost } from './host.js';

const EXAMPLE = 'examples/blog/podvoy.yaml';

export function parseSpec(text: string, file: string, host: SpecHost): Spec {
  const { doc, problems } = readDocument(text, file);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    problems.atOffset(0, '', `The spec is empty. Start from ${EXAMPLE}.`);
  } else if (!isMap(root)) {
    problems.add(root, '', `The spec must be a map with the keys name and services, not ${describe(root)}. Start from ${EXAMPLE}.`);
  }
  const raw = isMap(root) ? readSpec(new SpecContext(problems, host), root) : undefined;
  problems.throwIfAny();
  if (!raw) throw new Error('podvoy bug: a spec without problems was not built');
  return applyDefaults(raw, host);
}
