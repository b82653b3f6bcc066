import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KubeCliOptions } from './commands/kube-options.js';
import { reportError } from './errors.js';
import { quietOnClosedPipes } from './pipes.js';

/** A commander argParser: commander prints the message as an invalid argument and exits non-zero. */
function positive(unit: string, { integer = false } = {}): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`Give a positive ${integer ? 'whole ' : ''}number of ${unit}.`);
    }
    return n;
  };
}

/** A commander argParser of a duration: `90s`, `1m`, `500ms`, into milliseconds. */
function duration(value: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(value);
  const ms = match ? Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'] : 0;
  if (ms < 1000) throw new InvalidArgumentError('Give a duration of at least 1s, such as 30s or 1m.');
  return ms;
}

/** Every command, option and description of the CLI; handlers load only when their verb runs. */
export function buildProgram(): Command {
  const program = new Command('podvoy')
    .description('Play a declarative spec into podman pods: apps behind Envoy sidecars, run by podman -> conmon -> runc.')
    .option('--debug', 'print stack traces of errors')
    .option('-V, --version', 'print the version of podvoy')
    .showHelpAfterError();
  // Read when asked, not at import: every other command starts without touching package.json.
  program.on('option:version', () => {
    process.stdout.write(`${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
    process.exit(0);
  });

  program
    .command('play')
    .description('start or update the pods of a spec; prints each service URL once it serves')
    .argument('<spec>', 'spec file, e.g. examples/blog/podvoy.yaml')
    .option('--timeout <seconds>', 'how long to wait for each pod to serve', positive('seconds'), 60)
    .option('--dry-run', 'show what play would do (as `podvoy diff`), and do nothing')
    .option('--json', 'print the result as JSON only')
    .action(async (spec: string, opts: { timeout: number; dryRun?: boolean; json?: boolean }) =>
      opts.dryRun ? (await import('./commands/diff.js')).run(spec, opts) : (await import('./commands/play.js')).run(spec, opts),
    );

  program
    .command('diff')
    .description('show what play would do: pods to start, replace and retire, each mesh file as a unified diff, Envoys that restart')
    .argument('<spec>', 'spec file')
    .option('--json', 'print JSON only')
    .action(async (spec: string, opts: { json?: boolean }) => (await import('./commands/diff.js')).run(spec, opts));

  program
    .command('ps')
    .description('list the pods podvoy runs: name, status, containers, URL')
    .option('--json', 'print JSON only')
    .action(async (opts: { json?: boolean }) => (await import('./commands/ps.js')).run(opts));

  program
    .command('logs')
    .description("show a spec's container logs")
    .argument('<spec>', 'spec file or deployment name')
    .argument('[container]', 'nginx, envoy or app (default: all)')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <lines>', 'only the last lines of each container', positive('lines', { integer: true }))
    .option('--request <id>', "only this request's line from every hop, in order, by its x-request-id (needs accessLog: json)")
    .option('--json', 'with --request: print JSON only')
    .action(async (spec: string, container: string | undefined, opts: { follow?: boolean; tail?: number; request?: string; json?: boolean }) =>
      opts.request === undefined
        ? (await import('./commands/logs.js')).run(spec, container, opts)
        : (await import('./commands/logs.js')).request(spec, opts.request, opts),
    );

  program
    .command('render')
    .description('print or write what play (or kube apply) would run; starts nothing')
    .argument('<spec>', 'spec file')
    .option('--out <dir>', 'write the files into this directory instead of printing them')
    .addOption(new Option('--target <target>', 'podman pods, or Kubernetes manifests').choices(['podman', 'kubernetes']).default('podman'))
    .option('--registry <prefix>', 'kubernetes: where site images are pulled from (overrides kubernetes.registry)')
    .action(async (spec: string, opts: { out?: string; target: string; registry?: string }) =>
      opts.target === 'kubernetes' ? (await import('./commands/kube.js')).render(spec, opts) : (await import('./commands/render.js')).run(spec, opts),
    );

  program
    .command('down')
    .description('remove everything play created for a spec, or deregister, drain and remove one service')
    .argument('<spec>', 'spec file or deployment name (a file, to take down one service)')
    .argument('[service]', 'only this service (or gateway); the rest keeps serving')
    .action(async (spec: string, service: string | undefined) => (await import('./commands/down.js')).run(spec, service));

  program
    .command('status')
    .description("what every Envoy of a spec reports: endpoints, their health, requests and errors, mesh file versions")
    .argument('<spec>', 'spec file or deployment name')
    .option('--json', 'print JSON only')
    .action(async (spec: string, opts: { json?: boolean }) => (await import('./commands/status.js')).run(spec, opts));

  program
    .command('top')
    .description('success rate, req/s, latency percentiles and connections of every service over a window, as the gateway and each caller see them')
    .argument('<spec>', 'spec file or deployment name')
    .option('--window <duration>', 'the window the figures are computed over, e.g. 30s, 1m', duration, 60_000)
    .option('--json', 'print JSON only (one window, then exit)')
    .addOption(new Option('-o, --output <format>', 'wide: a row per pod').choices(['wide']))
    .action(async (spec: string, opts: { window: number; json?: boolean; output?: string }) => (await import('./commands/top.js')).run(spec, opts));

  program
    .command('graph')
    .description('a picture of the mesh: gateway, services and pods, an edge per route and upstream with live req/s and success rate, unhealthy pods marked')
    .argument('<spec>', 'spec file')
    .addOption(new Option('--format <format>', 'svg (laid out by Graphviz), dot or mermaid').choices(['svg', 'dot', 'mermaid']).default('svg'))
    .option('--out <file>', 'write the picture to this file instead of printing it')
    .option('--window <duration>', 'the window of the live figures, e.g. 10s', duration, 10_000)
    .option('--no-live', 'draw the spec alone, without asking the running Envoys')
    .action(async (spec: string, opts: { format: 'svg' | 'dot' | 'mermaid'; out?: string; window: number; live: boolean }) =>
      (await import('./commands/graph.js')).run(spec, opts),
    );

  const certs = program
    .command('certs')
    .description("the mesh's certificates (mTLS) and the gateway's ACME one: list them, renew them, rotate the CA");
  certs
    .command('list', { isDefault: true })
    .description("each identity, its SPIFFE ID, its expiry and the Envoys serving it, and the gateway's ACME certificate (the default)")
    .argument('<spec>', 'spec file or deployment name')
    .option('--json', 'print JSON only')
    .action(async (spec: string, opts: { json?: boolean }) => (await import('./commands/certs.js')).list(spec, opts));
  certs
    .command('renew')
    .description("renew the mesh's certificates past half their life and the gateway's ACME one past two thirds (give the spec file), in place: no Envoy restarts")
    .argument('<spec>', 'spec file or deployment name')
    .option('--force', 'renew every certificate now')
    .action(async (spec: string, opts: { force?: boolean }) => (await import('./commands/certs.js')).renew(spec, opts));
  certs
    .command('rotate-ca')
    .description('replace the mesh CA: trust old and new until every certificate is reissued, then drop the old')
    .argument('<spec>', 'spec file or deployment name')
    .action(async (spec: string) => (await import('./commands/certs.js')).rotateCa(spec));

  program
    .command('systemd')
    .description("write systemd units (podman's generator) that start a deployment's pods at boot")
    .argument('<spec>', 'spec file or deployment name')
    .option('--out <dir>', 'where to write the units', '.')
    .action(async (spec: string, opts: { out: string }) => (await import('./commands/systemd.js')).run(spec, opts));

  program
    .command('images')
    .description('local images')
    .command('build')
    .description("build localhost/podvoy/nginx and localhost/podvoy/envoy from this host's binaries (no registry needed); with a spec, one site image per static service for clusters")
    .argument('[spec]', 'spec file: build nginx plus each static site, tagged by the site\'s content hash')
    .option('--registry <prefix>', 'with a spec: the registry and repository prefix of the site images (overrides kubernetes.registry)')
    .option('--push', 'with a spec: push the site images to their registry')
    .action(async (spec: string | undefined, opts: { registry?: string; push?: boolean }) =>
      spec === undefined ? (await import('./commands/images-build.js')).run() : (await import('./commands/kube.js')).buildSites(spec, opts),
    );

  const kube = program.command('kube').description('run a spec on a Kubernetes cluster with kubectl');
  for (const [verb, description] of [
    ['apply', 'apply a spec to a cluster; waits until it serves through the gateway and prints each URL'],
    ['delete', "remove a spec's namespace and everything in it from a cluster"],
  ] as const) {
    kube
      .command(verb)
      .description(description)
      .argument('<spec>', verb === 'apply' ? 'spec file' : 'spec file or deployment name')
      .option('--kubeconfig <file>', 'kubeconfig file (default: kubectl\'s, from KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'context of the kubeconfig (default: its current context)')
      .option('--registry <prefix>', 'where site images are pulled from (overrides kubernetes.registry)')
      .option('--timeout <seconds>', 'how long to wait', positive('seconds'), 180)
      .action(async (spec: string, opts: KubeCliOptions) => (await import('./commands/kube.js'))[verb](spec, opts));
  }

  program
    .command('doctor')
    .description('check podman, runc, images and host settings; says how to fix each problem')
    .option('--json', 'print JSON only')
    .addOption(new Option('--target <target>', 'what to check: this host\'s podman, or a Kubernetes cluster').choices(['podman', 'kubernetes']).default('podman'))
    .option('--spec <file>', 'kubernetes: also check that the images of this spec are on a node or in a registry')
    .option('--kubeconfig <file>', 'kubernetes: kubeconfig file')
    .option('--context <name>', 'kubernetes: context of the kubeconfig')
    .action(async (opts: { json?: boolean; target: string } & KubeCliOptions & { spec?: string }) =>
      opts.target === 'kubernetes' ? (await import('./commands/kube.js')).doctor(opts) : (await import('./commands/doctor.js')).run(opts),
    );

  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  quietOnClosedPipes();
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error, Boolean(program.opts().debug));
  }
}
