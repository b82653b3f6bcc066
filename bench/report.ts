import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ENCODINGS } from './compression.js';
import { PATHS } from './dataplane.js';
import { playStepTotals } from './deploy.js';
import type { ChangeSide, DeploySample, KubeResult } from './kube.js';
import { FIXED_LOAD, MAX_LOAD } from './load.js';
import type { MtlsResult } from './mtls.js';
import type { Results } from './results.js';

/** The run as Markdown tables, one per section, and the files under bench/results/. */

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const mib = (kib: number) => f(kib / 1024, 1);
const s = (ms: number) => f(ms / 1000, 2);
const x2 = (ratio: number) => f(ratio, 2);

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const dp = r.dataPlane;
  const d = r.deploy;
  const mc = r.meshChange;
  const cli = r.meshChangeCli;
  const sec = r.meshChangeCliMtls;
  const rounds = (podvoy: ((q: (typeof d.rounds)[number]) => number) | undefined, bare: (q: (typeof d.rounds)[number]) => number) =>
    `${podvoy ? d.rounds.map((q) => s(podvoy(q))).join(', ') : '-'} \\| ${d.rounds.map((q) => s(bare(q))).join(', ')}`;
  const out: string[] = [];
  out.push(
    '# podvoy benchmark',
    '',
    `${m.date} - ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}.`,
    `podman ${m.podman} (log driver ${m.logDriver}), runc ${m.runc}, Envoy ${m.envoy}, nginx ${m.nginx} (images: ${m.images.join(', ')}); wrk ${m.wrk}, h2load ${m.h2load}.`,
    `Wall time: ${Object.entries(r.wallSeconds).map(([k, v]) => `${k} ${f(v)} s`).join(', ')}.`,
    '',
    '## Goals',
    '',
    ...r.goals.map((g) => `- ${g.goal}: **${g.verdict}**`),
    '',
    ...dataPlaneSection(dp),
    ...renderMtls(r.mtls),
    '## 2. Deploy (the blog example behind a gateway)',
    '',
    `Pods: ${d.pods.join(', ')}. Median of ${d.rounds.length} interleaved rounds; each until the first 200 through the gateway.`,
    '',
    table(
      ['step', 'podvoy (s)', 'bare podman (s)', 'podvoy / bare', 'rounds: podvoy \\| bare (s)'],
      [
        ['deploy until the first 200', s(d.playMs), s(d.bareMs), f(d.ratio, 2), rounds((q) => q.playMs, (q) => q.bareMs)],
        ['  bare: network create + kube play', '', s(d.bareKubePlayMs), '', rounds(undefined, (q) => q.bareKubePlayMs)],
        ['  bare: then until the first 200 (Envoy start-up)', '', s(d.bareWaitMs), '', rounds(undefined, (q) => q.bareWaitMs)],
        ['down (podvoy down / kube down + network rm)', s(d.downMs), s(d.bareDownMs), f(d.downMs / d.bareDownMs, 2), rounds((q) => q.downMs, (q) => q.bareDownMs)],
      ],
    ),
    '',
    "Where podvoy play's time went (first round, from its progress lines):",
    '',
    table(['step', 's'], Object.entries(playStepTotals(d.rounds[0]!)).map(([k, v]) => [k, s(v)])),
    '',
    `## 3. Mesh change (route /whoami.txt moved between two services)`,
    '',
    `From \`play\`'s call until a poll through the gateway (every ${mc.pollIntervalMs} ms) got the new answer: ${mc.changes} changes through ` +
      `the library's play in the benchmark's process, then ${cli.changes} through the CLI (\`node bin/podvoy.js play\`, a new process each, as a user runs it)` +
      (sec ? `, and ${sec.changes} through the CLI on the mTLS section's mesh (mTLS on, as the examples ship: a change also checks every certificate and the secrets each Envoy runs)` : '') +
      `. Envoy containers watched for restarts: ${mc.envoysWatched}${sec ? ` (and ${sec.envoysWatched})` : ''}; restarted: ${[...mc.envoysRestarted, ...cli.envoysRestarted, ...(sec?.envoysRestarted ?? [])].join(', ') || 'none'}. ` +
      `With ${mc.changes} samples, p99 is the slowest.`,
    '',
    table(
      ['measure', 'library p50 ms', 'library p99 ms', 'CLI p50 ms', 'CLI p99 ms', ...(sec ? ['CLI, mTLS p50 ms', 'CLI, mTLS p99 ms'] : [])],
      [
        ['served through the gateway', f(mc.servedP50Ms), f(mc.servedP99Ms), f(cli.servedP50Ms), f(cli.servedP99Ms), ...(sec ? [f(sec.servedP50Ms), f(sec.servedP99Ms)] : [])],
        ['  of which podvoy until rds.yaml is in place', f(mc.writtenP50Ms), '', f(cli.writtenP50Ms), '', ...(sec ? [f(sec.writtenP50Ms), ''] : [])],
        ['  of which Envoy from the file to serving it', f(mc.appliedP50Ms), f(mc.appliedP99Ms), f(cli.appliedP50Ms), f(cli.appliedP99Ms), ...(sec ? [f(sec.appliedP50Ms), f(sec.appliedP99Ms)] : [])],
        ['play returned (every Envoy reported the version)', f(mc.playP50Ms), '', f(cli.playP50Ms), '', ...(sec ? [f(sec.playP50Ms), ''] : [])],
      ],
    ),
    '',
    `For scale: one podman CLI call (\`podman pod ps\` of the mesh) takes ${f(mc.podmanCallMs)} ms here` +
      (cli.cliStartup
        ? `; Node.js starts and exits in ${f(cli.cliStartup.nodeMs)} ms, and in ${f(cli.cliStartup.nodeWithImportMs)} ms when it imports podvoy's library (dist/index.js).`
        : '.'),
    '',
    `The CLI's quick verbs as new processes, median of ${r.cli.rounds} interleaved runs: \`podvoy ps\` ${f(r.cli.podvoyPsMs)} ms, ` +
      `\`podman ps\` ${f(r.cli.podmanPsMs)} ms, \`podvoy --version\` ${f(r.cli.podvoyVersionMs)} ms, Node.js starting and exiting ${f(r.cli.nodeMs)} ms.`,
    '',
    '## 4. Memory (VmRSS of each container process tree, from /proc)',
    '',
    'Idle: the mesh up for 3 s with only health checks. Under load: the peak of samples every 250 ms during the maximum-rate runs. ' +
      'RSS counts the pages of the Envoy binary that every Envoy maps; PSS shares those among them. ' +
      "Envoy's allocated / heap: its admin /memory (objects in use / what tcmalloc holds).",
    '',
    table(
      ['container', 'role', 'idle RSS MiB', 'idle RssAnon MiB', 'idle PSS MiB', 'Envoy allocated / heap MiB', 'peak RSS under load MiB'],
      r.memory.map((row) => [
        row.container,
        row.role,
        mib(row.idle.rssKiB),
        mib(row.idle.anonKiB),
        mib(row.idle.pssKiB),
        row.envoyHeap ? `${mib(row.envoyHeap.allocatedKiB)} / ${mib(row.envoyHeap.heapSizeKiB)}` : '-',
        row.underLoad ? mib(row.underLoad.rssKiB) : '-',
      ]),
    ),
    '',
    '## 5. Scale (N static services behind one gateway)',
    '',
    'Bare podman beside it, on the same rendered pods: one `podman kube play` of all of them (one multi-document file), then the wait until every service answers through the gateway; and `podman pod rm -f` of them.',
    '',
    table(
      ['services', 'containers', 'render ms', 'play s', 'bare kube play s', 'bare until served s', 'play / bare', 'mesh change p50 ms', 'of which podvoy ms', 'mesh change max ms', 'Envoys restarted', 'down s', 'bare pod rm -f s', 'down / bare', 'gateway RSS MiB'],
      r.scale.points.map((p) => [
        p.services,
        p.containers,
        f(p.renderMs),
        s(p.playMs),
        s(p.bareKubePlayMs),
        s(p.bareServedMs),
        x2(p.playMs / p.bareServedMs),
        f(p.changeP50Ms),
        f(p.changeWrittenP50Ms),
        f(p.changeMaxMs),
        p.envoysRestarted,
        s(p.downMs),
        s(p.barePodRmMs),
        x2(p.downMs / p.barePodRmMs),
        mib(p.gatewayRss.rssKiB),
      ]),
    ),
    '',
  );
  if (r.compression) out.push(...compressionSection(r.compression));
  if (r.kube) out.push(...renderKube(r.kube));
  return out.join('\n');
}

/** Section 1: every path's rate, latency and CPU per request. */
export function dataPlaneSection(dp: Results['dataPlane']): string[] {
  // The reference Envoy's column has figures on the paths that have one.
  const cpuLabels = [...new Set(dp.figures.flatMap((x) => Object.keys(x.cpuUsPerRequest)))];
  return [
    '## 1. Data plane',
    '',
    `Maximum rate: wrk, ${MAX_LOAD.threads} thread, ${MAX_LOAD.connections} connections, ${dp.options.maxSeconds} s. ` +
      `Latency: h2load at a fixed ${dp.options.rate} requests/s (${FIXED_LOAD.clients} HTTP/1.1 connections), ${dp.options.fixedSeconds} s. ` +
      `Paths interleaved (each of podvoy's Envoys next to its reference, the order reversed every other round), median of ${dp.options.rounds} rounds (the goals against a reference take the median of the rounds' ratios); (a), (b), (d), (h), (i), (j) run inside the site pod's network namespace, (e), (f), (g) inside the gateway pod's, (c) from the host to the gateway's HTTP port. ` +
      'A reference Envoy is the smallest configuration that does the same hop (one listener, one route, one static cluster, no access log, the same concurrency), ' +
      "run as podvoy runs its Envoys: from the same image, in a container of the pod it is compared in, with the same user and security settings: " +
      "(b) against (d) is what podvoy's sidecar configuration costs, (e) against (f) its gateway's. The tries, with the small file: (g) against (f) is HTTP/1.1 against HTTP/2 from the gateway to the sidecars; (i) against (h) a unix socket against loopback TCP between a sidecar and nginx (a second nginx serving the same site on both); " +
      '(j) against (d) what running in a container costs the same Envoy.',
    '',
    table(
      ['file', 'path', 'max req/s', 'x (a)', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'errors'],
      dp.figures.map((x) => [
        x.size,
        `(${x.path}) ${PATHS[x.path]}`,
        f(x.maxRps),
        f(x.rpsRatio, 2),
        f(x.p50Ms, 3),
        f(x.p99Ms, 3),
        f(x.addedP50Ms, 3),
        f(x.addedP99Ms, 3),
        x.maxRounds.reduce((n, q) => n + q.errors, 0) + x.fixedRounds.reduce((n, q) => n + q.failed, 0),
      ]),
    ),
    '',
    'CPU per request at the maximum rate (each process tree\'s user + system time from /proc, divided by the requests served), ' +
      'and how busy all cores were (the load generator included):',
    '',
    table(
      ['file', 'path', ...cpuLabels.map((k) => `${k} CPU µs/req`), 'cores busy %'],
      dp.figures.map((x) => [x.size, `(${x.path})`, ...cpuLabels.map((k) => (k in x.cpuUsPerRequest ? f(x.cpuUsPerRequest[k]!, 1) : '-')), f(x.machineBusy * 100)]),
    ),
    '',
  ];
}

export function compressionSection(c: NonNullable<Results['compression']>): string[] {
  const labels = Object.keys(c.figures[0]?.cpuUsPerRequest ?? {});
  const identity = c.figures.find((x) => x.encoding === 'identity');
  return [
    `## 6. Compression (a ${c.page.bytes / 1024} KiB HTML page through the gateway)`,
    '',
    `wrk as in section 1 (${c.options.maxSeconds} s), with Accept-Encoding as shown; ${c.compressedBy === 'nginx' ? 'nginx compresses (its image has the brotli modules)' : 'the sidecar compresses (the nginx image has no brotli modules)'}, except the page with a .gz and a .br file beside it, which nginx sends as they are${c.compressedBy === 'nginx' ? '' : ' (the .br only with the modules; here the sidecar makes brotli)'}. ` +
      `Encodings interleaved, median of ${c.options.rounds} rounds. Bytes are what wrk read per answer, headers included.`,
    '',
    table(
      ['Accept-Encoding', 'max req/s', 'bytes/answer', 'x identity bytes', ...labels.map((k) => `${k} CPU µs/req`), 'path CPU µs/req', 'cores busy %', 'errors'],
      c.figures.map((x) => [
        ENCODINGS[x.encoding].label,
        f(x.maxRps),
        f(x.bytesPerRequest),
        identity ? f(x.bytesPerRequest / identity.bytesPerRequest, 3) : 'n/a',
        ...labels.map((k) => f(x.cpuUsPerRequest[k]!, 1)),
        f(Object.values(x.cpuUsPerRequest).reduce((a, b) => a + b, 0), 1),
        f(x.machineBusy * 100),
        x.errors,
      ]),
    ),
    '',
  ];
}

/** Writes `<base>.json` and `<base>.md` to `dir`. */
export async function writeResults(dir: string, r: Results, base: string): Promise<{ json: string; md: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const markdown = renderMarkdown(r);
  const json = path.join(dir, `${base}.json`);
  const md = path.join(dir, `${base}.md`);
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(md, markdown);
  return { json, md, markdown };
}

/** Section 1b: the same gateway -> sidecar -> nginx path with mTLS and without. */
export function renderMtls(m: MtlsResult): string[] {
  return [
    '## 1b. mTLS (gateway -> sidecar -> nginx, with mTLS and without)',
    '',
    `Two identical meshes, one with \`mtls: false\`, fetched through the gateway's HTTP port from the host, interleaved; median of ${m.options.rounds} rounds. ` +
      `Maximum rate: wrk (${MAX_LOAD.connections} connections, ${m.options.maxSeconds} s); latency: h2load at ${m.options.rate} requests/s, ${m.options.fixedSeconds} s.`,
    '',
    table(
      ['file', 'mTLS', 'max req/s', 'x without', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'errors'],
      m.figures.map((x) => [x.size, x.mtls ? 'on' : 'off', f(x.maxRps), f(x.rpsRatio, 2), f(x.p50Ms, 3), f(x.p99Ms, 3), f(x.addedP50Ms, 3), f(x.addedP99Ms, 3), x.errors]),
    ),
    '',
    'CPU per request at the maximum rate (each process tree\'s user + system time from /proc, divided by the requests served):',
    '',
    table(
      ['file', 'mTLS', ...Object.keys(m.figures[0]?.cpuUsPerRequest ?? {}).map((k) => `${k} CPU µs/req`), 'Envoys together µs/req'],
      m.figures.map((x) => [
        x.size,
        x.mtls ? 'on' : 'off',
        ...Object.values(x.cpuUsPerRequest).map((us) => f(us, 1)),
        f((x.cpuUsPerRequest.gateway ?? 0) + (x.cpuUsPerRequest.sidecar ?? 0), 1),
      ]),
    ),
    '',
  ];
}

/** Section 7: the mesh example on podman and on a single-node cluster, side by side. */
export function renderKube(k: KubeResult): string[] {
  const { deploy: d, change: c, images } = k;
  const rounds = (pick: (q: DeploySample) => number) => `${d.rounds.map((q) => s(pick(q.podman))).join(', ')} \\| ${d.rounds.map((q) => s(pick(q.cluster))).join(', ')}`;
  const deployRow = (step: string, pick: (q: DeploySample) => number) => [step, s(pick(d.podman)), s(pick(d.cluster)), x2(pick(d.cluster) / pick(d.podman)), rounds(pick)];
  const changeRow = (measure: string, p50: (side: ChangeSide) => number, p99: (side: ChangeSide) => number) =>
    [measure, f(p50(c.podman)), f(p99(c.podman)), f(p50(c.cluster)), f(p99(c.cluster)), x2(p50(c.cluster) / p50(c.podman))];
  const restarted = (side: ChangeSide) => `${side.envoysRestarted.length} of ${side.envoysWatched}${side.envoysRestarted.length ? ` (${side.envoysRestarted.join(', ')})` : ''}`;
  return [
    '## 7. Cluster (the mesh example on podman and on a single-node Kubernetes)',
    '',
    `Kubernetes ${k.kubernetes}, one node on this machine (scripts/kube-up, ${k.clusterUpMs !== undefined ? `started by the benchmark in ${s(k.clusterUpMs)} s` : 'already up'}); mTLS on, as the example ships. ` +
      `Before the rounds, not timed in them: the site images built in ${s(images.buildMs)} s, copied into the cluster's containerd in ${s(images.loadMs)} s ` +
      `(${images.loaded.length} loaded, ${images.present.length} already there), listed by the node ${s(images.listedMs)} s later. ` +
      `podman through the gateway's HTTPS port, the cluster through the gateway's NodePort ${k.nodePorts.https}, both on 127.0.0.1, polled from the call on (every ${c.pollIntervalMs} ms). Median of ${d.rounds.length} interleaved rounds. ` +
      "kube apply returns once every rollout is complete, which counts a pod only after it has been ready for the Deployment's minReadySeconds; " +
      "kube delete returns once the namespace is gone, each app's preStop drain included; podvoy down of a whole deployment removes its pods without a drain.",
    '',
    table(
      ['step', 'podman (s)', 'cluster (s)', 'cluster / podman', 'rounds: podman \\| cluster (s)'],
      [
        deployRow('deploy until the first 200 over HTTPS', (q) => q.servedMs),
        deployRow('the call returned (play / kube apply)', (q) => q.callMs),
        deployRow('remove (down / kube delete)', (q) => q.removeMs),
      ],
    ),
    '',
    `Mesh change: the route \`/api/\` moved between api and blog, ${c.changes} times, each on podman and then on the cluster; from the call (\`play\` / \`kubeApply\`) ` +
      `until a poll through the gateway (every ${c.pollIntervalMs} ms) got the new answer (the API's posts.json, or the blog's 404 page). With ${c.changes} samples, p99 is the slowest. ` +
      `Envoys restarted: podman ${restarted(c.podman)} (container PIDs), cluster ${restarted(c.cluster)} (each pod's envoy container id and restart count).`,
    '',
    table(
      ['measure', 'podman p50 ms', 'podman p99 ms', 'cluster p50 ms', 'cluster p99 ms', 'cluster / podman p50'],
      [
        changeRow('served through the gateway', (q) => q.servedP50Ms, (q) => q.servedP99Ms),
        changeRow('the call returned', (q) => q.callP50Ms, (q) => q.callP99Ms),
      ],
    ),
    '',
  ];
}
