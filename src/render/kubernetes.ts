import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { KubernetesRenderError, type KubernetesProblem } from '../errors.js';
import { IN_POD, POD_PORTS, XDS_FILES } from '../mesh/contract.js';
import {
  GATEWAY_TLS_SECRET,
  KUBE_LABELS,
  kubeLabels,
  kubeNamespace,
  kubeObjectNames,
  kubeSelector,
  serviceDnsName,
} from '../mesh/kube-names.js';
import { MESH_HEALTH_PATH, SDS_FILES, meshIdentities, publishedPort } from '../mesh/identity.js';
import { GATEWAY } from '../mesh/names.js';
import { planGateway, planPod, type PodImages } from '../mesh/plan.js';
import type { Registry } from '../mesh/registry.js';
import type { Gateway, Publish, Service, Spec } from '../spec/model.js';
import { renderGateway, renderPod } from './pod.js';
import type { Templates, TemplateSources } from './templates.js';
import { renderMeshFiles } from './xds.js';

/**
 * The Kubernetes target: the same plan and the same Envoy, nginx and mesh files as on podman,
 * as manifests (typed objects serialised with `yaml`). Pure: no file, no cluster.
 *
 * What differs, and why:
 * - The mesh is found through cluster DNS: each service has a headless Service, whose name
 *   resolves to every ready pod, so the mesh files name services, not pods, and registration is
 *   the pod's readiness.
 * - The kubelet cannot reach a unix socket: it asks Envoy's /ready through a probe listener
 *   that passes that one path to the admin interface (the admin port stays on 127.0.0.1).
 * - Static sites are baked into an image per service (`podvoy images build <spec>`): a host
 *   directory means nothing on a cluster.
 * - With mTLS, each identity's directory (the SDS files, the certificate, key and trust bundle)
 *   is a Secret mounted where the Envoy reads it on podman. The manifests only name it: `kube
 *   apply` makes it from podvoy's pki (the CA stays on the machine that runs podvoy), so no key
 *   is ever rendered. The kubelet swaps a Secret's files by renaming `..data`, which Envoy's
 *   watched directory sees: a renewal is a Secret update, with no restart. The kubelet, which
 *   has no mesh certificate, asks the app's health through the probe listener.
 */

/** The images of a deployment on a cluster: Envoy, and each static service's site image. */
export interface KubernetesImages {
  readonly envoy: string;
  /** nginx without a site; only shapes the plan's revision (the site images are built on it). */
  readonly nginx: string;
  /** Static service name -> its site image (nginx plus the site, tagged by the site's hash). */
  readonly sites: Readonly<Record<string, string>>;
}

export interface KubernetesInput {
  readonly spec: Spec;
  readonly images: KubernetesImages;
  readonly templates: Templates;
  readonly sources: TemplateSources;
}

/** Rendered manifests: the objects in apply order, and the multi-document YAML of them. */
export interface KubernetesManifests {
  readonly namespace: string;
  readonly objects: readonly KubeObject[];
  readonly yaml: string;
  /**
   * The Secrets of the mesh's identities that the pods mount (none with `mtls: false`): named
   * here, made by `kube apply` from the pki (`renderMeshTlsSecret`), never part of `objects`.
   */
  readonly meshTlsSecrets: readonly MeshTlsSecret[];
}

/** An identity's Secret: its name, and the Envoy (a service, or `gateway`) that mounts it. */
export interface MeshTlsSecret {
  readonly name: string;
  readonly workload: string;
}

/** The fields every manifest has; the rest is the kind's own. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/**
 * Requests and limits of each container. The sidecar's figures follow the benchmark (an idle
 * sidecar holds 15 MiB of its own, 66 MiB resident); the gateway's memory limit leaves room
 * above the 512 MiB heap at which its overload manager sheds load.
 */
export const KUBE_RESOURCES = {
  sidecar: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  nginx: { requests: { cpu: '25m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
  app: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  gateway: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '768Mi' } },
} as const;

/** How long a new pod must be ready before an old one is retired (see `deployment`). */
export const MIN_READY_SECONDS = 10;

/**
 * A pod that is let go leaves the Service's DNS at once, but every Envoy holds the old answer
 * until its next look-up (5 s, behind a 5 s TTL): the app keeps serving that long before it is
 * stopped (its sidecar stops after it). The sleep action needs no binary in the image
 * (Kubernetes 1.30).
 */
const DRAIN = { preStop: { sleep: { seconds: 10 } } } as const;

/** Kubernetes' default node port range; a host port outside it cannot be kept as a node port. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** The first port from 9902 the pod does not use: Envoy's probe listener. */
export function probePort(used: readonly number[]): number {
  let port = POD_PORTS.envoyAdmin + 1;
  while (used.includes(port)) port++;
  return port;
}

/** The plan needs host roots for podman's file layout; on a cluster none is used. */
const NO_ROOTS = { stateDir: '/nonexistent', runDir: '/nonexistent' } as const;

const ENVOY_ARGS = (concurrency: number) => [
  IN_POD.envoyBinary, '-c', IN_POD.envoyConfig, '--concurrency', String(concurrency),
  '--disable-hot-restart', '--log-level', 'warn', '--file-flush-interval-msec', '1000',
];

/** The same least privilege as on podman, in the terms of the `restricted` Pod Security Standard. */
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
} as const;
const AS_PODVOY_USER = { runAsUser: IN_POD.uid, runAsGroup: IN_POD.uid };

function podSecurity(fsGroup: boolean): object {
  return {
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    // The TLS Secret's files are group-readable (0440), for Envoy's group alone.
    ...(fsGroup ? { fsGroup: IN_POD.uid } : {}),
  };
}

/** The plan's revision covers the templates it is rendered from, by a digest of them. */
function templatesDigest(sources: TemplateSources): string {
  return hashOf(Object.entries(sources).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** Where each externally reached port goes on the cluster, and the port clients use. */
interface Exposure {
  readonly type: 'NodePort' | 'LoadBalancer';
  /** The Service's port (the spec's host port). */
  readonly port: number;
  /** Pinned node port, with NodePort, when the spec gives one. */
  readonly nodePort?: number;
}

/** Everything the spec asks that a cluster cannot do the same way, all at once. */
function checkSpec(spec: Spec): KubernetesProblem[] {
  const problems: KubernetesProblem[] = [];
  const publishes: [string, Publish][] = [
    ...(spec.gateway ? ([['gateway.http', spec.gateway.http]] as [string, Publish][]) : []),
    ...(spec.gateway?.https ? ([['gateway.https', spec.gateway.https]] as [string, Publish][]) : []),
    ...spec.services.flatMap((s): [string, Publish][] => (s.sidecar.publish ? [[`services.${s.name}.sidecar.publish`, s.sidecar.publish]] : [])),
  ];
  for (const [where, publish] of publishes) {
    if (publish.hostIP !== '127.0.0.1' && publish.hostIP !== '0.0.0.0') {
      problems.push({
        path: where,
        message:
          `binds to the host address ${publish.hostIP}, and a cluster has no such address to bind: a Service answers on every node ` +
          '(NodePort) or on its load balancer\'s address. Publish the port alone, and restrict who reaches it with ' +
          'kubernetes.expose: LoadBalancer plus loadBalancerSourceRanges, or a NetworkPolicy.',
      });
    }
  }
  if (spec.gateway?.acme) {
    problems.push({
      path: 'gateway.tls.acme',
      message:
        'is answered by podvoy beside a podman gateway (HTTP-01 through its listener file); a cluster gets its certificates ' +
        'from cert-manager. Name the certificate with tls.cert and tls.key for the cluster, or play the spec with podman.',
    });
  }
  const https = spec.gateway?.https;
  const expose = spec.kubernetes?.expose ?? 'NodePort';
  if (https && expose === 'NodePort' && spec.kubernetes?.nodePorts?.https === undefined && !inNodePortRange(https.hostPort)) {
    problems.push({
      path: 'gateway.https',
      message:
        `is port ${https.hostPort}, which cannot be a node port (${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}), and plain HTTP must ` +
        'redirect to the port clients reach HTTPS on. Set kubernetes.nodePorts.https (e.g. 30443), or kubernetes.expose: LoadBalancer ' +
        `to serve HTTPS on port ${https.hostPort} of a load balancer.`,
    });
  }
  return problems;
}

function inNodePortRange(port: number): boolean {
  return port >= NODE_PORT_RANGE.min && port <= NODE_PORT_RANGE.max;
}

function exposure(spec: Spec, publish: Publish, pinned: number | undefined): Exposure {
  const type = spec.kubernetes?.expose ?? 'NodePort';
  const nodePort = type === 'NodePort' ? (pinned ?? (inNodePortRange(publish.hostPort) ? publish.hostPort : undefined)) : undefined;
  return { type, port: publish.hostPort, ...(nodePort !== undefined ? { nodePort } : {}) };
}

/** The gateway as clients reach it on the cluster: the redirect goes to the HTTPS port they use. */
function gatewayOnCluster(spec: Spec, gateway: Gateway): Gateway {
  if (!gateway.https) return gateway;
  const https = exposure(spec, gateway.https, spec.kubernetes?.nodePorts?.https);
  return { ...gateway, https: { ...gateway.https, hostPort: https.nodePort ?? https.port } };
}

/** Renders a spec as Kubernetes manifests, or throws every reason it cannot be the same there. */
export function renderKubernetes(input: KubernetesInput): KubernetesManifests {
  const { spec, images, templates, sources } = input;
  const problems = checkSpec(spec);
  const missing = spec.services.filter((s) => s.app.kind === 'static' && images.sites[s.name] === undefined);
  for (const s of missing) {
    problems.push({ path: `services.${s.name}.static`, message: 'has no site image. Run `podvoy images build <spec>` (podvoy bug if render was called without it).' });
  }
  if (problems.length) throw new KubernetesRenderError(spec.file, problems);

  const namespace = kubeNamespace(spec);
  const meta = (name: string, workload: string) => ({ name, namespace, labels: kubeLabels(spec, workload) });
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          [KUBE_LABELS.instance]: spec.name,
          [KUBE_LABELS.partOf]: spec.name,
          [KUBE_LABELS.managedBy]: 'podvoy',
          // The apiserver itself refuses any pod of this namespace that would need more privilege.
          'pod-security.kubernetes.io/enforce': 'restricted',
          // Enforcement judges pods only; this also warns when a Deployment would make such a pod.
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    },
  ];

  // Registration is DNS: a service's headless name resolves to its ready pods.
  const registry: Registry = Object.fromEntries(spec.services.map((s) => [s.name, [serviceDnsName(spec, s.name)]]));
  const gateway = spec.gateway && gatewayOnCluster(spec, spec.gateway);
  const mesh = renderMeshFiles({ ...spec, ...(gateway ? { gateway } : {}) }, registry, NO_ROOTS);
  const meshData = (envoy: string) =>
    Object.fromEntries(mesh.filter((f) => f.envoy === envoy).map((f) => [XDS_FILES[f.kind], f.text]));

  const podImages: PodImages = { nginx: images.nginx, envoy: images.envoy };
  for (const service of spec.services) {
    objects.push(...serviceObjects(spec, service, podImages, images.sites[service.name], meta, meshData(service.name), templates, sources));
  }
  if (gateway) objects.push(...gatewayObjects(spec, images.envoy, meta, meshData(GATEWAY), templates, sources));

  const meshTlsSecrets = meshIdentities(spec)
    .filter((i) => i.envoy)
    .map((i) => ({ name: kubeObjectNames(i.name).meshTls, workload: i.name }));
  const secrets = [...(spec.gateway?.https ? [GATEWAY_TLS_SECRET] : []), ...meshTlsSecrets.map((s) => s.name)];
  const header = [
    `# ${spec.name}: rendered by podvoy for Kubernetes (podvoy kube apply).`,
    ...(secrets.length ? [`# Secrets the pods mount, made by podvoy kube apply (they hold keys, so they are never rendered): ${secrets.join(', ')}.`] : []),
  ];
  const yaml = objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  return { namespace, objects, yaml: `${header.join('\n')}\n${yaml}`, meshTlsSecrets };
}

/**
 * An identity's Secret, from its files in podvoy's pki (`identityFiles`): one key per file, so
 * the mounted directory holds the same names as on podman, and the SDS files' paths hold.
 */
export function renderMeshTlsSecret(spec: Pick<Spec, 'name'>, secret: MeshTlsSecret, files: Readonly<Record<string, string>>): KubeObject {
  const sds = new Set<string>(Object.values(SDS_FILES));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret.name, namespace: kubeNamespace(spec), labels: kubeLabels(spec, secret.workload) },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(files)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, text]) => [name, Buffer.from(sds.has(name) ? throughSwappedData(text) : text).toString('base64')]),
    ),
  };
}

/**
 * The kubelet updates a Secret volume by renaming a new `..data` link into place, which is what
 * Envoy's watched directory sees, and only then links the keys that are new (a new certificate's
 * serial-named files). An Envoy that reloads at once would find those links missing and keep its
 * old certificate, so the SDS files name each PEM file through `..data`: complete at the rename.
 */
function throughSwappedData(sdsText: string): string {
  return sdsText.replaceAll(`"filename": "${IN_POD.meshTlsDir}/`, `"filename": "${IN_POD.meshTlsDir}/${KUBELET_DATA_LINK}/`);
}

/** The link a kubelet swaps to update a ConfigMap or Secret volume (its AtomicWriter). */
const KUBELET_DATA_LINK = '..data';

/** The volume of an identity's Secret: readable by Envoy's group alone (the pod's fsGroup). */
function meshTlsVolume(workload: string): object {
  return { name: 'mesh-tls', secret: { secretName: kubeObjectNames(workload).meshTls, defaultMode: 0o440 } };
}

/**
 * A directory, not subPaths: the kubelet swaps its `..data` link by rename, which Envoy's watched
 * directory sees.
 */
const MESH_TLS_MOUNT = { name: 'mesh-tls', mountPath: IN_POD.meshTlsDir, readOnly: true } as const;

type Meta = (name: string, workload: string) => KubeObject['metadata'];

function serviceObjects(
  spec: Spec,
  service: Service,
  podImages: PodImages,
  siteImage: string | undefined,
  meta: Meta,
  meshData: Record<string, string>,
  templates: Templates,
  sources: TemplateSources,
): KubeObject[] {
  const names = kubeObjectNames(service.name);
  const app = service.app;
  const sidecarPort = service.sidecar.port;
  const probe = probePort([app.port, sidecarPort, ...service.upstreams.map((u) => u.port)]);
  const plan = planPod(spec, service, podImages, NO_ROOTS, templatesDigest(sources));
  const rendered = renderPod(templates, plan, { probePort: probe });
  const config = { 'envoy.yaml': rendered.envoyYaml, ...(rendered.nginxConf === undefined ? {} : { 'nginx.conf': rendered.nginxConf }) };
  const hasMesh = service.upstreams.length > 0;
  const mtls = spec.mtls !== undefined;
  // With mTLS the published port is a plain-HTTP listener of its own, as on podman.
  const published = mtls && service.sidecar.publish ? publishedPort(service) : undefined;

  const sidecar = {
    name: 'envoy',
    image: podImages.envoy,
    imagePullPolicy: 'IfNotPresent',
    // A native sidecar: started, and ready, before the app; stopped after it.
    restartPolicy: 'Always',
    command: ENVOY_ARGS(1),
    ports: [
      { name: 'envoy', containerPort: sidecarPort },
      ...(published === undefined ? [] : [{ name: 'published', containerPort: published }]),
      { name: 'probe', containerPort: probe },
    ],
    startupProbe: { httpGet: { path: '/ready', port: 'probe' }, periodSeconds: 1, failureThreshold: 60 },
    readinessProbe: { httpGet: { path: '/ready', port: 'probe' }, periodSeconds: 2, failureThreshold: 2 },
    resources: KUBE_RESOURCES.sidecar,
    securityContext: { ...CONTAINER_SECURITY, ...AS_PODVOY_USER },
    volumeMounts: [
      { name: 'config', mountPath: IN_POD.envoyConfig, subPath: 'envoy.yaml', readOnly: true },
      { name: 'admin', mountPath: IN_POD.runDir },
      // A directory, not a subPath: the kubelet swaps its `..data` link by rename, which Envoy's
      // watched_directory sees, so mesh changes reach a running Envoy.
      ...(hasMesh ? [{ name: 'mesh', mountPath: IN_POD.xdsDir, readOnly: true }] : []),
      ...(mtls ? [MESH_TLS_MOUNT] : []),
    ],
  };
  // The app is ready once it serves through its sidecar, as `play` waits for on podman; with
  // mTLS, once its sidecar finds it healthy (the kubelet has no certificate for the mesh port).
  const appReadiness = {
    httpGet: mtls ? { path: MESH_HEALTH_PATH, port: probe } : { path: service.health, port: sidecarPort },
    periodSeconds: 2,
    failureThreshold: 2,
  };
  const main =
    app.kind === 'static'
      ? {
          name: 'nginx',
          image: siteImage!,
          imagePullPolicy: 'IfNotPresent',
          command: [IN_POD.nginxBinary, '-e', 'stderr', '-c', IN_POD.nginxConfig],
          readinessProbe: appReadiness,
          lifecycle: DRAIN,
          resources: KUBE_RESOURCES.nginx,
          securityContext: { ...CONTAINER_SECURITY, ...AS_PODVOY_USER },
          volumeMounts: [
            { name: 'config', mountPath: IN_POD.nginxConfig, subPath: 'nginx.conf', readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        }
      : {
          name: 'app',
          image: app.image,
          imagePullPolicy: 'IfNotPresent',
          ...(Object.keys(app.env).length ? { env: Object.entries(app.env).map(([name, value]) => ({ name, value })) } : {}),
          readinessProbe: appReadiness,
          lifecycle: DRAIN,
          resources: KUBE_RESOURCES.app,
          // The app keeps its image's user, which must not be root.
          securityContext: CONTAINER_SECURITY,
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        };

  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(names.config, service.name), data: config },
    ...(hasMesh ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(names.mesh, service.name), data: meshData }] : []),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(names.headless, service.name),
      spec: {
        clusterIP: 'None',
        selector: kubeSelector(spec, service.name),
        // With mTLS the port speaks TLS (h2 by ALPN), not cleartext h2.
        ports: [{ name: 'envoy', port: sidecarPort, targetPort: 'envoy', ...(mtls ? {} : { appProtocol: 'kubernetes.io/h2c' }) }],
      },
    },
  ];
  const publish = service.sidecar.publish;
  if (publish) objects.push(exposedService(spec, names.exposed, service.name, meta, [{ name: 'http', ...exposure(spec, publish, undefined), targetPort: published === undefined ? 'envoy' : 'published' }]));
  objects.push(
    deployment(spec, service.name, service.replicas, meta, config, {
      initContainers: [sidecar],
      containers: [main],
      volumes: [
        { name: 'config', configMap: { name: names.config } },
        { name: 'admin', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        ...(hasMesh ? [{ name: 'mesh', configMap: { name: names.mesh } }] : []),
        ...(mtls ? [meshTlsVolume(service.name)] : []),
      ],
    }),
  );
  if (service.replicas >= 2) {
    objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(names.pdb, service.name),
      spec: { maxUnavailable: 1, selector: { matchLabels: kubeSelector(spec, service.name) } },
    });
  }
  return objects;
}

function gatewayObjects(
  spec: Spec,
  envoyImage: string,
  meta: Meta,
  meshData: Record<string, string>,
  templates: Templates,
  sources: TemplateSources,
): KubeObject[] {
  const gateway = spec.gateway!;
  const names = kubeObjectNames(GATEWAY);
  const probe = probePort([POD_PORTS.gatewayHttp, POD_PORTS.gatewayHttps]);
  const plan = planGateway(spec, envoyImage, NO_ROOTS, templatesDigest(sources))!;
  const config = { 'envoy.yaml': renderGateway(templates, plan, { probePort: probe }).envoyYaml };
  const pinned = spec.kubernetes?.nodePorts;
  const ports = [
    { name: 'http', ...exposure(spec, gateway.http, pinned?.http), targetPort: 'http' },
    ...(gateway.https ? [{ name: 'https', ...exposure(spec, gateway.https, pinned?.https), targetPort: 'https' }] : []),
  ];
  const envoy = {
    name: 'envoy',
    image: envoyImage,
    imagePullPolicy: 'IfNotPresent',
    command: ENVOY_ARGS(2),
    ports: [
      { name: 'http', containerPort: POD_PORTS.gatewayHttp },
      ...(gateway.https ? [{ name: 'https', containerPort: POD_PORTS.gatewayHttps }] : []),
      { name: 'probe', containerPort: probe },
    ],
    readinessProbe: { httpGet: { path: '/ready', port: 'probe' }, periodSeconds: 2, failureThreshold: 2 },
    resources: KUBE_RESOURCES.gateway,
    securityContext: { ...CONTAINER_SECURITY, ...AS_PODVOY_USER },
    volumeMounts: [
      { name: 'config', mountPath: IN_POD.envoyConfig, subPath: 'envoy.yaml', readOnly: true },
      { name: 'mesh', mountPath: IN_POD.xdsDir, readOnly: true },
      { name: 'admin', mountPath: IN_POD.runDir },
      ...(gateway.https ? [{ name: 'tls', mountPath: IN_POD.tlsDir, readOnly: true }] : []),
      ...(spec.mtls ? [MESH_TLS_MOUNT] : []),
    ],
  };
  const tlsFile = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(names.config, GATEWAY), data: config },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(names.mesh, GATEWAY), data: meshData },
    exposedService(spec, names.exposed, GATEWAY, meta, ports),
    deployment(spec, GATEWAY, 1, meta, config, {
      containers: [envoy],
      volumes: [
        { name: 'config', configMap: { name: names.config } },
        { name: 'mesh', configMap: { name: names.mesh } },
        { name: 'admin', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        ...(gateway.https
          ? [
              {
                name: 'tls',
                // `podvoy kube apply` creates it from the spec's pair, or a generated one; the
                // key is never part of the manifests.
                secret: {
                  secretName: GATEWAY_TLS_SECRET,
                  defaultMode: 0o440,
                  items: [
                    { key: 'tls.crt', path: tlsFile(IN_POD.tlsCert) },
                    { key: 'tls.key', path: tlsFile(IN_POD.tlsKey) },
                  ],
                },
              },
            ]
          : []),
        ...(spec.mtls ? [meshTlsVolume(GATEWAY)] : []),
      ],
    }),
  ];
}

function exposedService(
  spec: Spec,
  name: string,
  workload: string,
  meta: Meta,
  ports: readonly (Exposure & { name: string; targetPort: string })[],
): KubeObject {
  const type = ports[0]!.type;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, workload),
    spec: {
      type,
      selector: kubeSelector(spec, workload),
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) })),
    },
  };
}

function deployment(
  spec: Spec,
  workload: string,
  replicas: number,
  meta: Meta,
  config: Record<string, string>,
  pod: { initContainers?: object[]; containers: object[]; volumes: object[] },
): KubeObject {
  // Secret files are group-readable (0440), for Envoy's group alone.
  const hasSecrets = (workload === GATEWAY && spec.gateway?.https !== undefined) || spec.mtls !== undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(kubeObjectNames(workload).deployment, workload),
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      // The mesh learns of a new pod by DNS, which Envoy re-resolves every 5 s, behind the
      // cluster DNS's 5 s TTL: a new pod serves 10 s before an old one is let go, so that every
      // Envoy knows it first and retries have somewhere to go.
      minReadySeconds: MIN_READY_SECONDS,
      selector: { matchLabels: kubeSelector(spec, workload) },
      // A new pod serves before an old one goes: no moment with fewer pods than the spec asks.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: kubeLabels(spec, workload),
          // The bootstrap and nginx.conf are read once at start: a change rolls the pods.
          // The mesh files are not in it: Envoy applies those in place.
          annotations: { 'podvoy.io/config-hash': hashOf(config) },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(hasSecrets),
          terminationGracePeriodSeconds: 30,
          ...pod,
        },
      },
    },
  };
}
