import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ImageMissingError,
  KubeApplyError,
  KubeRolloutError,
  KubeUnreachableError,
  kubeDoctor,
  buildSiteImagesOf,
  kubeApply,
  kubeDelete,
  renderForKubernetes,
  type KubeApplyResult,
} from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { uniqueName, workspace, type Workspace } from '../support/e2e.js';
import {
  KUBE_NODE_IP,
  kubectl,
  kubectlJson,
  loadImagesIntoCluster,
  localPodvoyImage,
  pollUntil,
  testClusterKubeconfig,
} from '../support/kube-cluster.js';

// The mesh example on the real test cluster (scripts/kube-up): applied by podvoy itself, reached
// through the gateway's NodePort on 127.0.0.1, changed by ConfigMap and by a rolling update.

/** The gateway's certificate is self-signed: the tests trust it by not verifying it. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function get(url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(url, { dispatcher: insecure, headersTimeout: 5000, bodyTimeout: 5000 });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

/** Two node ports nobody else uses in this run. */
function nodePorts(): { http: number; https: number } {
  const http = 30000 + Math.floor(Math.random() * 2700);
  return { http, https: http + 1 };
}

interface PodJson {
  metadata: { name: string; uid: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { initContainers?: { name: string; restartPolicy?: string }[] };
  status: {
    phase: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: { name: string; containerID?: string; ready: boolean; restartCount: number; state: { running?: object } }[];
    containerStatuses?: { name: string; containerID?: string; ready: boolean; restartCount: number; state: { running?: object } }[];
  };
}

describe('the mesh example on a Kubernetes cluster', () => {
  let kubeconfig: string;
  let ws: Workspace;
  let name: string;
  let ports: { http: number; https: number };
  let file: string;
  let applied: KubeApplyResult;
  const namespace = () => `podvoy-${name}`;
  const https = (p: string) => `https://127.0.0.1:${ports.https}${p}`;

  /**
   * The example with this test's name and node ports, two API pods, and a split route; without
   * mTLS (and so without its allow list), whose identities on a cluster are tested on their own.
   */
  const specText = async (split: { blog: number; api: number }) => {
    const text = await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8');
    return text
      .replace(/^name: .*$/m, `name: ${name}\nmtls: false`)
      .replace(/^    allow: .*\n/m, '')
      .replace('http: 30081', `http: ${ports.http}`)
      .replace('https: 30443', `https: ${ports.https}`)
      .replace('  routes:\n', `  routes:\n  - prefix: /whoami.txt\n    split: {blog: ${split.blog}, api: ${split.api}}\n`)
      .replace('    static: ./api\n', '    static: ./api\n    replicas: 2\n');
  };
  const pods = async () => (await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '--namespace', namespace()])).items.filter((p) => !p.metadata.deletionTimestamp);
  /** Every container of every pod, by pod uid and container, with its id and restarts. */
  const containers = async () =>
    Object.fromEntries(
      (await pods()).flatMap((p) =>
        [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map((c) => [`${p.metadata.uid}/${c.name}`, `${c.containerID}#${c.restartCount}`]),
      ),
    );
  /** Builds the site images of the spec and copies them, with Envoy's, into the cluster's containerd. */
  const loadImages = async () => {
    const built = await buildSiteImagesOf(file);
    for (const b of built) builtImages.add(b.image);
    await loadImagesIntoCluster([await localPodvoyImage('envoy'), ...built.map((b) => b.image)]);
    return built;
  };
  /** Site images this test built, removed from podman afterwards (the cluster's go with it). */
  const builtImages = new Set<string>();
  const whoami = async (n: number) => {
    const counts = { blog: 0, api: 0 };
    for (let i = 0; i < n; i++) counts[(await get(https('/whoami.txt'))).body.trim() as 'blog' | 'api']++;
    return counts;
  };

  beforeAll(async () => {
    kubeconfig = testClusterKubeconfig();
    ws = await workspace('mesh');
    name = uniqueName('km');
    ports = nodePorts();
    file = await ws.writeSpec(await specText({ blog: 1, api: 0 }));
    await loadImages();
    applied = await kubeApply(file, { kubeconfig, timeoutMs: 240_000 });
  });
  afterAll(async () => {
    if (name) await kubeDelete(name, { kubeconfig }).catch(() => {});
    await ws?.cleanup();
    if (builtImages.size) await promisify(execFile)('podman', ['rmi', '--ignore', ...builtImages]).catch(() => {});
  });

  it('rolls out and prints the gateway URL on the node address', async () => {
    expect(applied.namespace).toBe(namespace());
    expect(applied.urls).toEqual([{ workload: 'gateway', url: `https://${KUBE_NODE_IP}:${ports.https}/` }]);
    const deployments = await kubectlJson<{ items: { metadata: { name: string }; status: { readyReplicas?: number; replicas: number } }[] }>([
      'get', 'deployments', '--namespace', namespace(),
    ]);
    expect(deployments.items.map((d) => [d.metadata.name, d.status.readyReplicas]).sort()).toEqual([['api', 2], ['blog', 1], ['gateway', 1]]);
    console.log(`kube apply of the mesh example: ${(applied.elapsedMs / 1000).toFixed(1)} s to the first answer through the gateway`);
  });

  it('runs Envoy as a native sidecar in the running pods', async () => {
    for (const pod of (await pods()).filter((p) => p.metadata.labels['app.kubernetes.io/name'] !== 'gateway')) {
      expect(pod.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([['envoy', 'Always']]);
      // A native sidecar keeps running beside the app: an ordinary init container would have exited.
      expect(pod.status.initContainerStatuses?.map((c) => [c.name, Boolean(c.state.running), c.ready])).toEqual([['envoy', true, true]]);
      expect(pod.status.containerStatuses?.map((c) => [c.name, Boolean(c.state.running), c.ready])).toEqual([['nginx', true, true]]);
    }
  });

  it('serves the blog and the API through the NodePort on 127.0.0.1 over TLS, with HSTS', async () => {
    const index = await get(https('/'));
    expect(index.status).toBe(200);
    expect(index.body).toBe(await readFile(path.join(ws.dir, 'blog/index.html'), 'utf8'));
    expect(index.headers['strict-transport-security']).toBe('max-age=31536000');
    const posts = await get(https('/api/posts.json'));
    expect(posts.status).toBe(200);
    expect(JSON.parse(posts.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8')));
  });

  it('redirects plain HTTP to the HTTPS node port', async () => {
    const res = await request(`http://127.0.0.1:${ports.http}/posts/mesh.html`);
    await res.body.dump();
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${ports.https}/posts/mesh.html`);
  });

  it('lets the blog call the API sidecar to sidecar, by the service name', async () => {
    const res = await get(https('/blog-api/posts.json'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/blog-api/posts.json'), 'utf8')));
  });

  it('applies a weight change by ConfigMap alone: the same Envoy processes, and the split follows', async () => {
    expect(await whoami(20)).toEqual({ blog: 20, api: 0 });
    const before = await containers();
    const served = async (expected: string) =>
      pollUntil(`/whoami.txt answered by ${expected}`, 90_000, async () => ((await get(https('/whoami.txt'))).body.trim() === expected ? true : undefined));
    // The gateway's mesh ConfigMap alone, by kubectl: the files reach Envoy when the kubelet next
    // syncs the pod. Timed from kubectl's return to the first answer that follows the change.
    const kubeletOnly: number[] = [];
    for (const [blog, api, expected] of [[0, 1, 'api'], [1, 0, 'blog'], [0, 1, 'api'], [1, 0, 'blog']] as const) {
      await writeFile(file, await specText({ blog, api }));
      const manifests = await renderForKubernetes(file);
      const configMap = manifests.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'gateway-mesh')!;
      await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'podvoy', '-f', '-'], { input: stringify(configMap) });
      const started = Date.now();
      await served(expected);
      kubeletOnly.push(Date.now() - started);
    }
    // Through podvoy kube apply, which also annotates the pods that mount the files. Timed from
    // the call (checks and all) to the first answer that follows the change.
    const byPodvoy: number[] = [];
    for (const [blog, api, expected] of [[0, 1, 'api'], [1, 0, 'blog'], [0, 1, 'api'], [1, 0, 'blog']] as const) {
      await writeFile(file, await specText({ blog, api }));
      const started = Date.now();
      await kubeApply(file, { kubeconfig, timeoutMs: 120_000 });
      await served(expected);
      byPodvoy.push(Date.now() - started);
    }
    const show = (samples: number[]) => samples.map((s) => `${(s / 1000).toFixed(1)} s`).join(', ');
    console.log(`mesh change until served, kubelet syncFrequency 10s: ConfigMap only ${show(kubeletOnly)}; podvoy kube apply ${show(byPodvoy)}`);
    // Then half and half, through podvoy itself.
    await writeFile(file, await specText({ blog: 1, api: 1 }));
    await kubeApply(file, { kubeconfig, timeoutMs: 120_000 });
    await pollUntil('both services answer /whoami.txt', 60_000, async () => {
      const c = await whoami(20);
      return c.blog > 0 && c.api > 0 ? true : undefined;
    });
    const counts = await whoami(400);
    expect(counts.blog + counts.api).toBe(400);
    expect(counts.blog).toBeGreaterThan(140);
    expect(counts.api).toBeGreaterThan(140);
    expect(await containers()).toEqual(before);
  });

  it('rolls out a changed site under constant load without a failed request', async () => {
    const indexFile = path.join(ws.dir, 'blog/index.html');
    const changed = `${await readFile(indexFile, 'utf8')}<!-- changed -->\n`;
    await writeFile(indexFile, changed);
    const [blogImage] = (await loadImages()).filter((b) => b.service === 'blog');
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const load = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const res = await get(https('/'));
          if (res.status === 200) served++;
          else failures.push(`${res.status}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    try {
      await kubeApply(file, { kubeconfig, timeoutMs: 240_000 });
      const blogPods = (await pods()).filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'blog');
      expect(blogPods.length).toBe(1);
      await pollUntil('the new site through the gateway', 30_000, async () => ((await get(https('/'))).body === changed ? true : undefined));
      // The old pod's last requests drain while it goes: keep the load on a little longer.
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      running = false;
      await Promise.all(load);
    }
    const deployment = await kubectlJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(['get', 'deployment', 'blog', '--namespace', namespace()]);
    expect(deployment.spec.template.spec.containers[0]!.image).toBe(blogImage!.image);
    console.log(`site rollout under load: ${served} requests served, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(50);
  });

  it('replaces a deleted pod while traffic continues', async () => {
    const apiPods = (await pods()).filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'api');
    expect(apiPods.length).toBe(2);
    const victim = apiPods[0]!.metadata;
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const res = await get(https('/api/posts.json')).catch((e: Error) => ({ status: 0, body: e.message }));
        if (res.status === 200) served++;
        else failures.push(`${res.status} ${res.body.slice(0, 80)}`);
      }
    })();
    try {
      await kubectl(['delete', 'pod', victim.name, '--namespace', namespace(), '--wait=true']);
      await pollUntil('a replacement API pod, ready', 120_000, async () => {
        const now = (await pods()).filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'api');
        const ready = now.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 2 && !now.some((p) => p.metadata.uid === victim.uid) ? true : undefined;
      });
    } finally {
      running = false;
      await load;
    }
    console.log(`deleted API pod: ${served} requests served meanwhile, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(10);
  });

  it('refuses an unreachable cluster and a missing image before applying anything', async () => {
    const bad = path.join(ws.dir, 'bad-kubeconfig');
    await writeFile(
      bad,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token: 'not-a-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    await expect(kubeApply(file, { kubeconfig: bad, timeoutMs: 20_000 })).rejects.toBeInstanceOf(KubeUnreachableError);

    const other = uniqueName('kmiss');
    const missing = await ws.writeSpec((await readFile(file, 'utf8')).replace(/^name: .*$/m, `name: ${other}`).replace(/http: \d+/, 'http: 32766').replace(/https: \d+/, 'https: 32767'));
    const error = await kubeApply(missing, { kubeconfig, registry: 'localhost/podvoy-missing', timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageMissingError);
    expect((error as ImageMissingError).image).toMatch(/^localhost\/podvoy-missing\//);
    const ns = await kubectl(['get', 'namespace', `podvoy-${other}`], { allowFailure: true });
    expect(ns.code).not.toBe(0);
  });

  it('kube delete removes the namespace and everything in it', async () => {
    expect(await kubeDelete(name, { kubeconfig })).toEqual({ namespace: namespace(), deleted: true });
    const ns = await kubectl(['get', 'namespace', namespace()], { allowFailure: true });
    expect(ns.stderr).toMatch(/NotFound|not found/);
  });
});

describe('server dry run of every example', () => {
  let kubeconfig: string;
  const made: string[] = [];
  beforeAll(() => {
    kubeconfig = testClusterKubeconfig();
  });
  afterAll(async () => {
    for (const ns of made) await kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  });

  /** The example under a unique name, its namespace created for real (a dry run creates nothing), the rest dry run. */
  const dryRun = async (example: string, edit: (objects: Record<string, any>[]) => void = () => {}) => {
    const ws = await workspace(example);
    try {
      const text = await readFile(path.join(ws.dir, 'podvoy.yaml'), 'utf8');
      const file = await ws.writeSpec(text.replace(/^name: .*$/m, `name: ${uniqueName('kdry')}`));
      const manifests = await renderForKubernetes(file);
      const [namespace, ...rest] = parseAllDocuments(manifests.yaml).map((d) => d.toJS() as Record<string, any>);
      edit(rest);
      await kubectl(['apply', '-f', '-'], { input: stringify(namespace) });
      made.push(manifests.namespace);
      return await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: rest.map((o) => stringify(o)).join('---\n'), allowFailure: true });
    } finally {
      await ws.cleanup();
    }
  };

  it.each(['blog', 'mesh'])('passes for %s', async (example) => {
    const result = await dryRun(example);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/deployment\.apps\/\S+ created \(server dry run\)/);
  });

  it.each<[string, (objects: Record<string, any>[]) => void, RegExp]>([
    ['a selector that does not match its labels', (objects) => {
      objects.find((o) => o.kind === 'Deployment')!.spec.selector.matchLabels['app.kubernetes.io/name'] = 'other';
    }, /selector.*does not match template labels|`selector` does not match/],
    ['an unknown field', (objects) => {
      objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].sidecar = true;
    }, /unknown field/],
  ])('catches %s', async (_, edit, message) => {
    const result = await dryRun('mesh', edit);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('warns of a Deployment whose pods the restricted namespace would refuse', async () => {
    const result = await dryRun('mesh', (objects) => {
      objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    });
    expect(result.stderr).toMatch(/would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });
});

describe('the blog example on a Kubernetes cluster, and failures', () => {
  let kubeconfig: string;
  let ws: Workspace;
  const names: string[] = [];
  const builtImages: string[] = [];
  beforeAll(async () => {
    kubeconfig = testClusterKubeconfig();
    ws = await workspace('blog');
  });
  afterAll(async () => {
    for (const name of names) await kubeDelete(name, { kubeconfig }).catch(() => {});
    await ws?.cleanup();
    if (builtImages.length) await promisify(execFile)('podman', ['rmi', '--ignore', ...builtImages]).catch(() => {});
  });
  const specFile = async (edit: (text: string) => string = (t) => t) => {
    const name = uniqueName('kb');
    names.push(name);
    const text = await readFile(path.join(PACKAGE_ROOT, 'examples/blog/podvoy.yaml'), 'utf8');
    return { name, file: await ws.writeSpec(edit(text.replace(/^name: .*$/m, `name: ${name}`))) };
  };

  it('serves a published sidecar through a NodePort, and doctor finds everything in place', async () => {
    const { name, file } = await specFile();
    const built = await buildSiteImagesOf(file);
    builtImages.push(...built.map((b) => b.image));
    await loadImagesIntoCluster([await localPodvoyImage('envoy'), ...built.map((b) => b.image)]);
    // A kubelet lists a just-imported image in its node status within about 30 s.
    const checks = await pollUntil('doctor finds the imported images', 90_000, async () => {
      const found = await kubeDoctor(file, { kubeconfig });
      return found.every((c) => c.ok) ? found : undefined;
    });
    expect(checks.map((c) => c.name)).toEqual(['kubectl', 'cluster', `image ${await localPodvoyImage('envoy')}`, `image ${built[0]!.image}`]);
    const result = await kubeApply(file, { kubeconfig, timeoutMs: 240_000 });
    const url = result.urls.find((u) => u.workload === 'web')!.url;
    expect(url).toMatch(new RegExp(`^http://${KUBE_NODE_IP.replace(/\./g, '\\.')}:3\\d{4}/$`));
    const res = await get(url.replace(KUBE_NODE_IP, '127.0.0.1'));
    expect(res.status).toBe(200);
    expect(res.body).toBe(await readFile(path.join(ws.dir, 'site/index.html'), 'utf8'));
    expect(result.pruned).toEqual([]);

    // Published no more: the next apply removes the NodePort Service, and only it.
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^      publish: .*\n/m, ''));
    const unpublished = await kubeApply(file, { kubeconfig, timeoutMs: 240_000 });
    expect(unpublished.pruned).toEqual(['service/web-public']);
    const left = (await kubectl(['get', 'deployments,services,configmaps', '--namespace', `podvoy-${name}`, '-o', 'name'])).stdout.split('\n').filter(Boolean);
    expect(left.sort()).toEqual(['configmap/kube-root-ca.crt', 'configmap/web-config', 'deployment.apps/web', 'service/web']);
    await kubeDelete(name, { kubeconfig });
  });

  it('waits for a LoadBalancer\'s address and serves through it, with kubernetes.expose: LoadBalancer', async () => {
    const { name, file } = await specFile((t) => `${t}kubernetes: {expose: LoadBalancer}\n`);
    const built = await buildSiteImagesOf(file);
    builtImages.push(...built.map((b) => b.image));
    await loadImagesIntoCluster(built.map((b) => b.image));
    const namespace = `podvoy-${name}`;
    // The test cluster has no load balancer controller: this plays one, as a cloud's would,
    // giving the Service an address (the node's own, which kube-proxy then forwards).
    let assigned = false;
    const controller = pollUntil('the LoadBalancer Service to exist', 240_000, async () => {
      const exists = (await kubectl(['get', 'service', 'web-public', '--namespace', namespace, '--ignore-not-found', '-o', 'name'])).stdout.trim();
      if (!exists) return undefined;
      const status = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: KUBE_NODE_IP }] } } });
      await kubectl(['patch', 'service', 'web-public', '--namespace', namespace, '--subresource=status', '--type=merge', '-p', status]);
      assigned = true;
      return true;
    });
    const result = await kubeApply(file, { kubeconfig, timeoutMs: 240_000 });
    await controller;
    expect(assigned).toBe(true);
    const service = await kubectlJson<{ spec: { type: string } }>(['get', 'service', 'web-public', '--namespace', namespace]);
    expect(service.spec.type).toBe('LoadBalancer');
    expect(result.urls).toEqual([{ workload: 'web', url: `http://${KUBE_NODE_IP}:8080/` }]);
    const res = await get(result.urls[0]!.url);
    expect(res.status).toBe(200);
    expect(res.body).toBe(await readFile(path.join(ws.dir, 'site/index.html'), 'utf8'));
    await kubeDelete(name, { kubeconfig });
  });

  it('fails on a TLS pair kubectl refuses, says what exists, and applies no workload', async () => {
    const { name, file } = await specFile((t) =>
      t.replace('services:', 'gateway:\n  http: 32001\n  https: 32002\n  tls: {cert: ./tls/cert.pem, key: ./tls/key.pem}\n  routes: [{service: web}]\nservices:')
        .replace(/    sidecar:\n(      .*\n)*/, '')
        // Not an image to pull: the apply fails before any workload exists.
        .concat('kubernetes: {registry: registry.invalid/podvoy}\n'),
    );
    await mkdir(path.join(ws.dir, 'tls'), { recursive: true });
    await writeFile(path.join(ws.dir, 'tls/cert.pem'), 'not a certificate\n');
    await writeFile(path.join(ws.dir, 'tls/key.pem'), 'not a key\n');
    const error = await kubeApply(file, { kubeconfig, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApplyError);
    expect((error as KubeApplyError).message).toMatch(new RegExp(`What exists in podvoy-${name} now: nothing\\.`));
    expect((await kubectl(['get', 'deployments', '--namespace', `podvoy-${name}`, '-o', 'name'])).stdout).toBe('');
    await kubeDelete(name, { kubeconfig });
  });

  it('fails with the stuck pod\'s reason and says what exists; kube delete removes it', async () => {
    // An image of a registry that does not answer: nothing can pull it.
    const { name, file } = await specFile((t) => `${t}kubernetes: {registry: registry.invalid/podvoy}\n`);
    const error = await kubeApply(file, { kubeconfig, timeoutMs: 40_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeRolloutError);
    const rollout = error as KubeRolloutError;
    expect(rollout.deployment).toBe('web');
    expect(rollout.reasons.join('\n')).toMatch(/image pull \((ErrImagePull|ImagePullBackOff)\): container nginx cannot get registry\.invalid\/podvoy\//);
    expect(rollout.existing).toEqual(expect.arrayContaining(['deployment.apps/web', 'service/web', 'service/web-public', 'configmap/web-config']));
    expect(rollout.message).toContain(`What exists in podvoy-${name} now:`);
    expect(await kubeDelete(file, { kubeconfig })).toEqual({ namespace: `podvoy-${name}`, deleted: true });
  });
});
