import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeUnreachableError, buildSiteImagesOf, kubeApply, kubeDelete, type KubeApplyResult } from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/engine/files.js';
import { identityFiles } from '../../src/engine/pki/index.js';
import { sdsFileNames } from '../../src/engine/pki/store.js';
import { createCa, issueLeaf, loadCa } from '../../src/engine/pki/x509.js';
import { SDS_FILES, caDir, identityDir, pkiDir, podvoyClientFiles, spiffeId } from '../../src/mesh/identity.js';
import { renderSdsCertificate } from '../../src/render/mesh-tls.js';
import { uniqueName, workspace, type Workspace } from '../support/e2e.js';
import { kubectl, kubectlApply, kubectlJson, loadImagesIntoCluster, localPodvoyImage, pollUntil, testClusterKubeconfig } from '../support/kube-cluster.js';
import { servedSerial } from '../support/mesh-tls.js';

// The mesh example on the real test cluster with mTLS on (the default): each identity a Secret
// made by kube apply from podvoy's pki, every hop mutual TLS, a client pod of our own that is
// no member of the mesh refused, a member not in `allow` denied, and a renewal that is a Secret
// update with no restart and no failed request.

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: insecure, headersTimeout: 5000, bodyTimeout: 5000 });
  return { status: res.statusCode, body: await res.body.text() };
}

interface PodJson {
  metadata: { name: string; uid: string; labels: Record<string, string>; deletionTimestamp?: string };
  status: {
    podIP?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: { name: string; containerID?: string; restartCount: number }[];
    containerStatuses?: { name: string; containerID?: string; restartCount: number }[];
  };
}

/** The client pod's listeners: each forwards plain HTTP to the api's sidecar one way. */
const CLIENT_PORTS = { plain: 10080, noCertificate: 10081, podvoy: 10082, blog: 10083 } as const;

/**
 * An Envoy that is no member of the mesh: it calls the api's sidecar in plain HTTP, over TLS
 * with no certificate, and over TLS with a certificate of the mesh (podvoy's own client identity,
 * which api does not allow, or the blog's, which it does). The test reaches it on its pod IP.
 */
function clientEnvoy(apiHost: string): object {
  const tls = (certificate?: string) => ({
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
        validation_context: { trusted_ca: { filename: '/etc/client/certs/trust.pem' } },
        ...(certificate
          ? { tls_certificates: [{ certificate_chain: { filename: `/etc/client/certs/${certificate}.cert.pem` }, private_key: { filename: `/etc/client/certs/${certificate}.key.pem` } }] }
          : {}),
      },
    },
  });
  const ways = { plain: undefined, noCertificate: tls(), podvoy: tls('podvoy'), blog: tls('blog') } as const;
  return {
    static_resources: {
      listeners: Object.entries(CLIENT_PORTS).map(([way, port]) => ({
        name: way,
        address: { socket_address: { address: '0.0.0.0', port_value: port } },
        filter_chains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  stat_prefix: way,
                  route_config: { virtual_hosts: [{ name: way, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: way } }] }] },
                  http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
                },
              },
            ],
          },
        ],
      })),
      clusters: Object.entries(ways).map(([way, socket]) => ({
        name: way,
        type: 'STRICT_DNS',
        dns_lookup_family: 'V4_ONLY',
        connect_timeout: '2s',
        load_assignment: { cluster_name: way, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: apiHost, port_value: 10000 } } } }] }] },
        ...(socket ? { transport_socket: socket } : {}),
      })),
    },
  };
}

describe('the mesh example on a Kubernetes cluster, with mTLS', () => {
  let kubeconfig: string;
  let ws: Workspace;
  let name: string;
  let file: string;
  let applied: KubeApplyResult;
  const ports = { http: 0, https: 0 };
  const builtImages = new Set<string>();
  const namespace = () => `podvoy-${name}`;
  const https = (p: string) => `https://127.0.0.1:${ports.https}${p}`;
  const pods = async () => (await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '--namespace', namespace()])).items.filter((p) => !p.metadata.deletionTimestamp);
  const podOf = async (workload: string) => (await pods()).find((p) => p.metadata.labels['app.kubernetes.io/name'] === workload)!;
  const containers = async () =>
    Object.fromEntries(
      (await pods()).flatMap((p) =>
        [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map((c) => [`${p.metadata.uid}/${c.name}`, `${c.containerID}#${c.restartCount}`]),
      ),
    );
  /** A Secret's files, decoded. */
  const secretFiles = async (secret: string) => {
    const json = await kubectlJson<{ data: Record<string, string> }>(['get', 'secret', secret, '--namespace', namespace()]);
    return Object.fromEntries(Object.entries(json.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  /** The serial of the certificate an identity's Secret names in its SDS file. */
  const secretSerial = async (workload: string) => {
    const files = await secretFiles(`${workload}-mesh-tls`);
    const cert = /\/([0-9a-f]+)\.cert\.pem/.exec(files[SDS_FILES.certificate]!)![1]!;
    return new X509Certificate(files[`${cert}.cert.pem`]!).serialNumber.toLowerCase();
  };

  beforeAll(async () => {
    kubeconfig = testClusterKubeconfig();
    ws = await workspace('mesh');
    name = uniqueName('kt');
    ports.http = 30000 + Math.floor(Math.random() * 2700);
    ports.https = ports.http + 1;
    const text = (await readFile(path.join(PACKAGE_ROOT, 'examples/mesh/podvoy.yaml'), 'utf8'))
      .replace(/^name: .*$/m, `name: ${name}`)
      .replace('http: 30081', `http: ${ports.http}`)
      .replace('https: 30443', `https: ${ports.https}`);
    file = await ws.writeSpec(text);
    const built = await buildSiteImagesOf(file);
    for (const b of built) builtImages.add(b.image);
    await loadImagesIntoCluster([await localPodvoyImage('envoy'), ...built.map((b) => b.image)]);
    applied = await kubeApply(file, { kubeconfig, roots: ws.roots, timeoutMs: 240_000 });
  });
  afterAll(async () => {
    if (name) await kubeDelete(name, { kubeconfig }).catch(() => {});
    await ws?.cleanup();
    if (builtImages.size) await promisify(execFile)('podman', ['rmi', '--ignore', ...builtImages]).catch(() => {});
  });

  it('applies each identity as a Secret that holds its leaf and trust bundle, never the CA key', async () => {
    // Before the Deployments that mount them.
    expect(applied.applied.slice(0, 3)).toEqual(['secret/gateway-mesh-tls', 'secret/blog-mesh-tls', 'secret/api-mesh-tls']);
    const caKey = (await readFile(path.join(caDir(ws.roots, name), 'ca-key.pem'), 'utf8')).split('\n')[1]!;
    for (const workload of ['gateway', 'blog', 'api']) {
      const files = await secretFiles(`${workload}-mesh-tls`);
      // The same files, under the same names, as the identity's directory on podman; the SDS
      // files name the same PEM files, through the kubelet's ..data link.
      const onPodman = await identityFiles(name, workload, ws.roots);
      expect(Object.keys(files).sort()).toEqual(Object.keys(onPodman).sort());
      for (const [key, text] of Object.entries(onPodman)) {
        if (key.startsWith('sds-')) {
          expect(sdsFileNames(files[key]!)).toEqual(sdsFileNames(text));
          expect(files[key]).toContain('"filename": "/etc/podvoy/mesh-tls/..data/');
        } else {
          expect(files[key]).toBe(text);
        }
      }
      const cert = Object.entries(files).find(([k]) => k.endsWith('.cert.pem'))![1];
      expect(new X509Certificate(cert).subjectAltName).toBe(`URI:${spiffeId(name, workload)}`);
      expect(Object.values(files).join('')).not.toContain(caKey);
    }
    const secrets = await kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'secrets', '--namespace', namespace()]);
    expect(secrets.items.map((s) => s.metadata.name).sort()).toEqual(['api-mesh-tls', 'blog-mesh-tls', 'gateway-mesh-tls', 'gateway-tls']);
  });

  it('serves the blog and the API through the gateway NodePort, gateway to sidecar over mTLS', async () => {
    const index = await get(https('/'));
    expect(index.status).toBe(200);
    expect(index.body).toBe(await readFile(path.join(ws.dir, 'blog/index.html'), 'utf8'));
    const posts = await get(https('/api/posts.json'));
    expect(posts.status).toBe(200);
    expect(JSON.parse(posts.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8')));
  });

  it('lets the blog call the API sidecar to sidecar over mTLS', async () => {
    const res = await get(https('/blog-api/posts.json'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/blog-api/posts.json'), 'utf8')));
    // On the wire, the api's sidecar presents the api's identity to a member of the mesh.
    const api = await podOf('api');
    const client = podvoyClientFiles(ws.roots, name);
    expect(await servedSerial(api.status.podIP!, 10000, client)).toBe(await secretSerial('api'));
  });

  describe('a pod that is no member of the mesh', () => {
    let clientIp: string;
    beforeAll(async () => {
      const blog = await identityFiles(name, 'blog', ws.roots);
      const blogCert = Object.keys(blog).find((k) => k.endsWith('.cert.pem'))!;
      const podvoy = podvoyClientFiles(ws.roots, name);
      const certs = {
        'trust.pem': await readFile(podvoy.ca, 'utf8'),
        'podvoy.cert.pem': await readFile(podvoy.cert, 'utf8'),
        'podvoy.key.pem': await readFile(podvoy.key, 'utf8'),
        'blog.cert.pem': blog[blogCert]!,
        'blog.key.pem': blog[blogCert.replace('.cert.pem', '.key.pem')]!,
      };
      const envoy = await localPodvoyImage('envoy');
      await kubectlApply([
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mtls-client', namespace: namespace() }, data: { 'envoy.yaml': stringify(clientEnvoy(`api.${namespace()}.svc.cluster.local.`)) } },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'mtls-client', namespace: namespace() },
          data: Object.fromEntries(Object.entries(certs).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'mtls-client', namespace: namespace(), labels: { test: 'mtls-client' } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 101, runAsGroup: 101, fsGroup: 101, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'envoy',
                image: envoy,
                imagePullPolicy: 'IfNotPresent',
                command: ['/usr/local/bin/envoy', '-c', '/etc/client/envoy.yaml', '--disable-hot-restart', '--log-level', 'warn'],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                readinessProbe: { tcpSocket: { port: CLIENT_PORTS.plain }, periodSeconds: 1 },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/client/envoy.yaml', subPath: 'envoy.yaml', readOnly: true },
                  { name: 'certs', mountPath: '/etc/client/certs', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'mtls-client' } },
              { name: 'certs', secret: { secretName: 'mtls-client', defaultMode: 0o440 } },
            ],
          },
        },
      ]);
      await kubectl(['wait', '--namespace', namespace(), '--for=condition=Ready', 'pod/mtls-client', '--timeout=120s'], { timeoutMs: 130_000 });
      clientIp = (await kubectlJson<PodJson>(['get', 'pod', 'mtls-client', '--namespace', namespace()])).status.podIP!;
    });
    const call = (way: keyof typeof CLIENT_PORTS) => get(`http://${clientIp}:${CLIENT_PORTS[way]}/api/posts.json`);

    it('is refused by a sidecar\'s inbound port without a mesh certificate, and in plain HTTP', async () => {
      const noCertificate = await call('noCertificate');
      expect(noCertificate.status).toBe(503);
      expect(noCertificate.body).toMatch(/TLS_error|connection failure|connection termination|reset/);
      const plain = await call('plain');
      expect(plain.status).toBe(503);
      expect(plain.body).toMatch(/upstream connect error|connection termination|reset/);
    });

    it('gets 403 with a certificate of the mesh whose identity api does not allow, and 200 with the blog\'s', async () => {
      // podvoy's own client identity is a member of the mesh, but not in api's allow: [gateway, blog].
      const denied = await call('podvoy');
      expect(denied.status).toBe(403);
      const allowed = await call('blog');
      expect(allowed.status).toBe(200);
      expect(JSON.parse(allowed.body)).toEqual(JSON.parse(await readFile(path.join(ws.dir, 'api/api/posts.json'), 'utf8')));
    });
  });

  it('renews a certificate past half its life on re-apply: a Secret update, no restart, no failed request', async () => {
    // Make the blog's certificate one issued 13 hours ago (of 24): still valid, past half its life.
    const ca = await loadCa(
      {
        cert: await readFile(path.join(caDir(ws.roots, name), 'ca.pem'), 'utf8'),
        key: await readFile(path.join(caDir(ws.roots, name), 'ca-key.pem'), 'utf8'),
      },
      'test',
    );
    const old = await issueLeaf(ca, { spiffeId: spiffeId(name, 'blog'), notBefore: new Date(Date.now() - 13 * 3_600_000), notAfter: new Date(Date.now() + 11 * 3_600_000) });
    const dir = identityDir(ws.roots, name, 'blog');
    const names = { cert: `${old.serial}.cert.pem`, key: `${old.serial}.key.pem` };
    await writeFile(path.join(dir, names.key), old.key, { mode: 0o400 });
    await writeFile(path.join(dir, names.cert), old.cert);
    await writeFile(path.join(dir, `${SDS_FILES.certificate}.tmp`), renderSdsCertificate(names).text);
    await rename(path.join(dir, `${SDS_FILES.certificate}.tmp`), path.join(dir, SDS_FILES.certificate));

    const before = { containers: await containers(), serial: await secretSerial('blog') };
    const client = podvoyClientFiles(ws.roots, name);
    const failures: string[] = [];
    let served = 0;
    let running = true;
    // Through the gateway to the blog's sidecar, and from the blog to the api: both sides of its identity.
    const load = Array.from({ length: 2 }, async () => {
      while (running) {
        for (const p of ['/', '/blog-api/posts.json']) {
          const res = await get(https(p)).catch((e: Error) => ({ status: 0, body: e.message }));
          if (res.status === 200) served++;
          else failures.push(`${p}: ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    });
    let renewed: string;
    try {
      await kubeApply(file, { kubeconfig, roots: ws.roots, timeoutMs: 120_000 });
      renewed = await secretSerial('blog');
      expect([renewed === before.serial, renewed === old.serial]).toEqual([false, false]);
      expect(new Date(new X509Certificate((await secretFiles('blog-mesh-tls'))[`${renewed}.cert.pem`]!).validTo).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      const blog = await podOf('blog');
      const started = Date.now();
      await pollUntil('the blog\'s sidecar serves its renewed certificate', 60_000, async () =>
        (await servedSerial(blog.status.podIP!, 10000, client)) === renewed ? true : undefined,
      );
      console.log(`renewed certificate on the wire ${((Date.now() - started) / 1000).toFixed(1)} s after kube apply returned`);
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      running = false;
      await Promise.all(load);
    }
    expect(await containers()).toEqual(before.containers);
    console.log(`renewal under load: ${served} requests served, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
    // The other identities were not due: their Secrets still name the same certificates.
    expect(sdsFileNames((await secretFiles('api-mesh-tls'))[SDS_FILES.certificate]!)).toEqual(sdsFileNames((await identityFiles(name, 'api', ws.roots))[SDS_FILES.certificate]!));
  });

  it('rotates to the spec\'s own CA on re-apply under load: each step on every Envoy before the next, 0 failed requests', async () => {
    const own = await createCa(`own ${name}`);
    await mkdir(path.join(ws.dir, 'ca'), { recursive: true });
    await writeFile(path.join(ws.dir, 'ca/ca.pem'), own.cert);
    await writeFile(path.join(ws.dir, 'ca/ca-key.pem'), own.key, { mode: 0o600 });
    await writeFile(file, `${await readFile(file, 'utf8')}mtls:\n  ca: {cert: ./ca/ca.pem, key: ./ca/ca-key.pem}\n`);
    const before = await containers();
    const ownCa = new X509Certificate(own.cert);
    const failures: string[] = [];
    const progress: string[] = [];
    let served = 0;
    let running = true;
    const load = Array.from({ length: 2 }, async () => {
      while (running) {
        for (const p of ['/', '/api/posts.json', '/blog-api/posts.json']) {
          const res = await get(https(p)).catch((e: Error) => ({ status: 0, body: e.message }));
          if (res.status === 200) served++;
          else failures.push(`${p}: ${res.status} ${res.body.slice(0, 120)}`);
        }
      }
    });
    try {
      await kubeApply(file, { kubeconfig, roots: ws.roots, timeoutMs: 180_000, onProgress: (line) => progress.push(line) });
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      running = false;
      await Promise.all(load);
    }
    expect(progress.filter((l) => l.startsWith('CA rotation'))).toEqual([
      'CA rotation: every Envoy trusts the new root beside the old',
      'CA rotation: every Envoy runs a certificate of the new CA',
    ]);
    for (const workload of ['gateway', 'blog', 'api']) {
      const files = await secretFiles(`${workload}-mesh-tls`);
      const leaf = new X509Certificate(files[`${await secretSerial(workload)}.cert.pem`]!);
      expect(leaf.checkIssued(ownCa) && leaf.verify(ownCa.publicKey)).toBe(true);
      // Only the spec's CA is trusted once every leaf comes from it.
      const trust = Object.entries(files).find(([k]) => k.startsWith('trust-'))![1];
      expect(trust.match(/BEGIN CERTIFICATE/g)!.length).toBe(1);
      expect(new X509Certificate(trust).fingerprint256).toBe(ownCa.fingerprint256);
    }
    const blog = await podOf('blog');
    await pollUntil('the blog\'s sidecar serves a certificate of the new CA', 30_000, async () =>
      (await servedSerial(blog.status.podIP!, 10000, podvoyClientFiles(ws.roots, name))) === (await secretSerial('blog')) ? true : undefined,
    );
    expect(await containers()).toEqual(before);
    console.log(`CA rotation under load: ${served} requests served, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
  });

  it('makes no certificate for a cluster it cannot reach', async () => {
    const other = uniqueName('ktu');
    const spec = path.join(ws.dir, 'unreachable.yaml');
    await writeFile(spec, (await readFile(file, 'utf8')).replace(/^name: .*$/m, `name: ${other}`));
    await expect(kubeApply(spec, { kubeconfig: path.join(ws.dir, 'no-kubeconfig'), roots: ws.roots, timeoutMs: 20_000 })).rejects.toBeInstanceOf(KubeUnreachableError);
    await expect(access(pkiDir(ws.roots, other))).rejects.toThrow(/ENOENT/);
  });
});
