import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { podPaths } from '../src/mesh/layout.js';
import { playBenchMesh, type BenchMesh } from './bench-mesh.js';
import { measureCompression } from './compression.js';
import { parentPid } from './cpu.js';
import { measureDataPlane } from './dataplane.js';
import { measureCli } from './cli.js';
import { measureDeploy } from './deploy.js';
import { judgeGoals, judgeReference } from './goals.js';
import { measureKube } from './kube.js';
import { describeHost, describeMachine } from './machine.js';
import { envoyHeap, rssOf } from './memory.js';
import { measureMeshChanges, type MeshChangeTarget } from './mesh-change.js';
import { measureMtls } from './mtls.js';
import { measureObservability, renderObservability } from './observe.js';
import { compressionSection, dataPlaneSection, renderKube, renderMtls, writeResults } from './report.js';
import { judgeMtls } from './goals.js';
import type { MemoryRow, Results } from './results.js';
import { measureScale } from './scale.js';
import { cleanupAll, containerPids, now, say, sleep, timed } from './support.js';

/**
 * `npm run bench`: every figure of the benchmark in one run on this machine, then the results
 * in bench/results/. BENCH_QUICK=1 runs each section briefly (to check the benchmark itself)
 * and writes quick.json / quick.md instead of latest.*.
 */

const quick = process.env.BENCH_QUICK === '1';
const settings = quick
  ? { rounds: 1, maxSeconds: 2, fixedSeconds: 2, rate: 1000, changes: 4, cliChanges: 2, cliRounds: 3, deployRounds: 1, scale: [1, 2, 3], scaleChanges: 2, renderRuns: 2, kube: { rounds: 1, changes: 3 } }
  : { rounds: 3, maxSeconds: 5, fixedSeconds: 5, rate: 1000, changes: 20, cliChanges: 10, cliRounds: 11, deployRounds: 5, scale: [1, 10, 30], scaleChanges: 8, renderRuns: 5, kube: { rounds: 3, changes: 10 } };

const wall: Record<string, number> = {};
async function section<T>(name: string, fn: () => Promise<T>): Promise<T> {
  say(`${name}...`);
  const { ms, value } = await timed(fn);
  wall[name] = ms / 1000;
  return value;
}

/**
 * The processes on the measured paths, whose CPU the data plane and compression read: the
 * gateway's and the site's Envoys, the site's nginx, and their conmons (podman's k8s-file log
 * driver: each conmon writes every access-log line to disk).
 */
async function processesOnPaths(mesh: BenchMesh, pids: Record<string, number>) {
  const onPaths = { gateway: `${mesh.pods.gateway}-envoy`, sidecar: `${mesh.pods.site}-envoy`, nginx: `${mesh.pods.site}-nginx` };
  const processes = Object.fromEntries(Object.entries(onPaths).map(([k, c]) => [k, pids[c]!]));
  const groups = { conmon: await Promise.all(Object.values(processes).map(parentPid)) };
  return { onPaths, processes, groups };
}

/**
 * BENCH_ONLY=dataplane: the data plane (with the reference Envoys and the tries) and compression
 * alone, written to results/dataplane.{json,md}: for trying a change to podvoy's Envoy or nginx
 * configuration in about 8 minutes instead of a full run.
 */
async function dataPlaneOnly(): Promise<void> {
  const mesh = await section('mesh up', playBenchMesh);
  const machine = await describeMachine(`${mesh.pods.gateway}-envoy`, `${mesh.pods.site}-nginx`);
  const { processes, groups } = await processesOnPaths(mesh, await containerPids(mesh.name));
  const dataPlane = await section('data plane', () => measureDataPlane(mesh, { ...settings, processes, groups }));
  const compression = await section('compression', () => measureCompression(mesh, { rounds: settings.rounds, maxSeconds: settings.maxSeconds, processes, groups }));
  await mesh.ws.cleanup();
  const goals = judgeReference(dataPlane);
  const markdown = [
    '# podvoy benchmark: data plane only',
    '',
    `${machine.date} - ${machine.cores} cores (${machine.cpu}); Envoy ${machine.envoy}, nginx ${machine.nginx} (images: ${machine.images.join(', ')}); wrk ${machine.wrk}, h2load ${machine.h2load}.`,
    '',
    ...goals.map((g) => `- ${g.goal}: **${g.verdict}**`),
    '',
    ...dataPlaneSection(dataPlane),
    ...compressionSection(compression),
  ].join('\n');
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  const name = `dataplane${quick ? '.quick' : ''}`;
  await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify({ machine, dataPlane, compression, goals, wallSeconds: wall }, null, 2)}\n`);
  await writeFile(path.join(dir, `${name}.md`), markdown);
  process.stdout.write(`${markdown}\n`);
}

/** BENCH_ONLY=mtls: the mTLS section alone, written to results/mtls.{json,md}. */
async function mtlsOnly(): Promise<void> {
  const plain = await section('mesh up', () => playBenchMesh());
  const secure = await section('mTLS mesh up', () => playBenchMesh({ mtls: true }));
  const machine = await describeMachine(`${plain.pods.gateway}-envoy`, `${plain.pods.site}-nginx`);
  const mtls = await section('mTLS', () => measureMtls(plain, secure, settings));
  const goals = judgeMtls(mtls);
  const markdown = [
    `# podvoy benchmark: mTLS only`,
    '',
    `${machine.date} - ${machine.cores} cores (${machine.cpu}); Envoy ${machine.envoy}, nginx ${machine.nginx}; wrk ${machine.wrk}, h2load ${machine.h2load}.`,
    '',
    ...goals.map((g) => `- ${g.goal}: **${g.verdict}**`),
    '',
    ...renderMtls(mtls),
  ].join('\n');
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await writeFile(path.join(dir, 'mtls.json'), `${JSON.stringify({ machine, mtls, goals, wallSeconds: wall }, null, 2)}\n`);
  await writeFile(path.join(dir, 'mtls.md'), markdown);
  process.stdout.write(`${markdown}\n`);
}

/** BENCH_ONLY=observe: the cost of JSON access logs and of the metrics listener, written to results/observe.{json,md}. */
async function observeOnly(): Promise<void> {
  const plain = await section('mesh up', () => playBenchMesh());
  const json = await section('JSON access log mesh up', () => playBenchMesh({ accessLog: 'json' }));
  const machine = await describeMachine(`${plain.pods.gateway}-envoy`, `${plain.pods.site}-nginx`);
  const result = await section('observability', () => measureObservability(plain, json, settings));
  const markdown = [
    '# podvoy benchmark: seeing the mesh',
    '',
    `${machine.date} - ${machine.cores} cores (${machine.cpu}); Envoy ${machine.envoy}, nginx ${machine.nginx}; wrk ${machine.wrk}.`,
    '',
    ...renderObservability(result),
  ].join('\n');
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await writeFile(path.join(dir, `observe${quick ? '.quick' : ''}.json`), `${JSON.stringify({ machine, result, wallSeconds: wall }, null, 2)}\n`);
  await writeFile(path.join(dir, `observe${quick ? '.quick' : ''}.md`), markdown);
  process.stdout.write(`${markdown}\n`);
}

/** BENCH_ONLY=kube: the cluster section alone, written to results/kube.{json,md} (kube.quick.* with BENCH_QUICK=1). */
async function kubeOnly(): Promise<void> {
  const host = await describeHost();
  const kube = await section('cluster', () => measureKube(settings.kube));
  const markdown = [
    '# podvoy benchmark: on a cluster',
    '',
    `${host.date} - ${host.cores} cores (${host.cpu}), ${host.memoryGiB} GiB, Linux ${host.kernel}, Node.js ${host.node}; podman ${host.podman}, runc ${host.runc}.`,
    '',
    ...renderKube(kube),
  ].join('\n');
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await writeFile(path.join(dir, `kube${quick ? '.quick' : ''}.json`), `${JSON.stringify({ host, kube, wallSeconds: wall }, null, 2)}\n`);
  await writeFile(path.join(dir, `kube${quick ? '.quick' : ''}.md`), markdown);
  process.stdout.write(`${markdown}\n`);
}

/** The route /whoami.txt moved between the mesh's two services, each change served once the gateway answers from the other. */
function changeTargetOf(mesh: BenchMesh): MeshChangeTarget {
  return {
    name: mesh.name,
    roots: mesh.ws.roots,
    probeUrl: `${mesh.gatewayUrl}/whoami.txt`,
    async change(i) {
      const to = i % 2 === 0 ? 'alt' : 'site';
      return { file: await mesh.routeWhoamiTo(to), served: (res) => res.status === 200 && res.body.trim() === to };
    },
  };
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'dataplane') return dataPlaneOnly();
  if (process.env.BENCH_ONLY === 'mtls') return mtlsOnly();
  if (process.env.BENCH_ONLY === 'observe') return observeOnly();
  if (process.env.BENCH_ONLY === 'kube') return kubeOnly();
  const started = now();
  const mesh = await section('mesh up', playBenchMesh);
  const pids = await containerPids(mesh.name);
  const container = (service: string, kind: 'envoy' | 'nginx') => `${mesh.pods[service]}-${kind}`;
  const machine = await describeMachine(container('gateway', 'envoy'), container('site', 'nginx'));

  // Idle: the mesh up for a few seconds, nothing but health checks going through it.
  await sleep(3000);
  const idle = await rssOf(pids);
  const heaps = Object.fromEntries(
    await Promise.all(
      ['gateway', 'site', 'alt'].map(async (service) => [container(service, 'envoy'), await envoyHeap(podPaths(mesh.ws.roots, mesh.name, mesh.pods[service]!).adminSocket)] as const),
    ),
  );
  const { onPaths, processes, groups } = await processesOnPaths(mesh, pids);
  const dataPlane = await section('data plane', () => measureDataPlane(mesh, { ...settings, processes, groups }));
  const compression = await section('compression', () => measureCompression(mesh, { rounds: settings.rounds, maxSeconds: settings.maxSeconds, processes, groups }));
  const secure = await section('mTLS mesh up', () => playBenchMesh({ mtls: true }));
  const mtls = await section('mTLS', () => measureMtls(mesh, secure, settings));
  // mTLS is on by default: a route change also checks every certificate and the Envoys' secrets.
  const meshChangeCliMtls = await section('mesh change (CLI, mTLS)', () => measureMeshChanges(changeTargetOf(secure), settings.cliChanges, 'cli'));
  await secure.ws.cleanup();
  const roles: [string, string, boolean, string?][] = [
    [onPaths.gateway, 'gateway Envoy', false, 'gateway'],
    [onPaths.sidecar, 'sidecar Envoy, site (loaded)', true, 'sidecar'],
    [container('alt', 'envoy'), 'sidecar Envoy, alt (never loaded)', true],
    [onPaths.nginx, 'nginx, site (master + worker)', false, 'nginx'],
    [container('alt', 'nginx'), 'nginx, alt (master + worker)', false],
  ];
  const memory: MemoryRow[] = roles.map(([c, role, sidecar, loadedAs]) => ({
    container: c,
    role,
    sidecar,
    idle: idle[c]!,
    ...(heaps[c] ? { envoyHeap: heaps[c] } : {}),
    ...(loadedAs && dataPlane.peakUnderLoad[loadedAs] ? { underLoad: dataPlane.peakUnderLoad[loadedAs] } : {}),
  }));

  const changeTarget = changeTargetOf(mesh);
  const meshChange = await section('mesh change', () => measureMeshChanges(changeTarget, settings.changes, 'library'));
  const meshChangeCli = await section('mesh change (CLI)', () => measureMeshChanges(changeTarget, settings.cliChanges, 'cli'));
  const cli = await section('CLI', () => measureCli(settings.cliRounds));
  await mesh.ws.cleanup();

  const deploy = await section('deploy', () => measureDeploy(settings.deployRounds));
  const scale = await section('scale', () => measureScale(settings.scale, { renderRuns: settings.renderRuns, changes: settings.scaleChanges }));
  const kube = await section('cluster', () => measureKube(settings.kube));

  wall.benchmark = (now() - started) / 1000;
  const setup = Number(process.env.BENCH_SETUP_SECONDS);
  if (Number.isFinite(setup) && setup > 0) {
    wall.setup = setup;
    wall.total = wall.benchmark + setup;
  }
  const partial = { machine, dataPlane, compression, mtls, memory, meshChange, meshChangeCli, meshChangeCliMtls, cli, deploy, scale, kube, wallSeconds: wall };
  const results: Results = { ...partial, goals: judgeGoals(partial) };
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  const written = await writeResults(dir, results, quick ? 'quick' : 'latest');
  process.stdout.write(`${written.markdown}\n`);
  say(`wrote ${written.json} and ${written.md}`);
}

// Kept listening after the first signal: a Ctrl-C reaches this process from the terminal and
// again from npm, which forwards it; a second SIGINT with no listener left would end the cleanup
// half way (a cluster left up).
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`${signal}: removing what the benchmark started`);
  void cleanupAll().finally(() => process.exit(130));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  console.error(error);
} finally {
  await cleanupAll();
}
