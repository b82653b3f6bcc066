import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { INOTIFY_PER_ENVOY, INOTIFY_RECOMMENDED, inotifyInstanceLimit } from '../host-limits.js';
import { PodvoyError } from '../../errors.js';
import type { StateRoots } from '../../mesh/layout.js';
import { nginxHasBrotli } from '../../mesh/contract.js';
import { runProgram } from '../exec.js';
import { ensureDir } from '../files.js';
import { resolveImages } from './images.js';
import { podmanRaw, stripPodmanWarnings } from './podman.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do when the check fails. */
  readonly fix?: string;
}

const SETUP = 'Run scripts/setup as root.';

/** Checks everything a play needs, in the order a failure would be met, and says how to fix each. */
export async function runDoctor(roots: StateRoots): Promise<Check[]> {
  const checks: Check[] = [];
  const version = await tryRun('podman', ['--version']);
  checks.push(
    version.ok
      ? { name: 'podman', ok: true, detail: version.out }
      : { name: 'podman', ok: false, detail: version.out, fix: `${SETUP} Or: apt-get install podman conmon catatonit netavark aardvark-dns.` },
  );
  const runc = await tryRun('runc', ['--version']);
  checks.push(
    runc.ok
      ? { name: 'runc', ok: true, detail: runc.out.split('\n')[0] ?? '' }
      : { name: 'runc', ok: false, detail: runc.out, fix: 'apt-get install runc (podvoy runs every pod with runc).' },
  );
  const iptables = await tryRun('iptables', ['--version']);
  checks.push(
    iptables.ok
      ? { name: 'iptables', ok: true, detail: iptables.out }
      : { name: 'iptables', ok: false, detail: iptables.out, fix: 'apt-get install iptables (netavark needs it for pod networks and ports).' },
  );
  const inotify = await inotifyInstanceLimit();
  if (inotify !== undefined) {
    checks.push({
      name: 'inotify instances',
      ok: inotify >= INOTIFY_RECOMMENDED,
      detail: `fs.inotify.max_user_instances ${inotify}: room for about ${Math.floor(inotify / INOTIFY_PER_ENVOY)} Envoys`,
      fix: `sysctl -w fs.inotify.max_user_instances=${INOTIFY_RECOMMENDED} (scripts/setup keeps it in /etc/sysctl.d/50-podvoy.conf).`,
    });
  }
  if (!version.ok) return checks;

  const info = await podmanRaw(['info', '--format', '{{.Host.CgroupsVersion}} {{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}']);
  const [cgroups = '?', backend = '?', runtime = '?'] = info.stdout.trim().split(' ');
  checks.push({
    name: 'podman info',
    ok: info.exitCode === 0 && backend === 'netavark' && runtime === 'runc',
    detail: `cgroups ${cgroups}, network backend ${backend}, runtime ${runtime}` + (info.exitCode ? `: ${stripPodmanWarnings(info.stderr).trim()}` : ''),
    fix: 'podvoy needs the netavark backend (apt-get install netavark aardvark-dns) and runc.',
  });

  let envoyImage: string | undefined;
  try {
    const images = await resolveImages({});
    envoyImage = images.envoy;
    const compression = nginxHasBrotli(images.nginx)
      ? 'nginx compresses the static sites'
      : "nginx has no brotli modules, so sidecars compress the static sites (scripts/setup installs the modules where the distribution has them)";
    checks.push({ name: 'images', ok: true, detail: `${images.nginx}, ${images.envoy}; ${compression}` });
  } catch (error) {
    if (!(error instanceof PodvoyError)) throw error;
    checks.push({ name: 'images', ok: false, detail: error.message, fix: 'Run `podvoy images build`.' });
  }
  if (envoyImage) {
    // Starting a real container is the one test of the runtime, rlimits and storage together.
    const trial = await podmanRaw(['run', '--rm', '--network', 'none', envoyImage, '--version']);
    const said = stripPodmanWarnings(trial.stderr).trim();
    checks.push({
      name: 'container start',
      ok: trial.exitCode === 0,
      detail: trial.exitCode === 0 ? 'a container starts with runc' : said,
      fix: /rlimit/i.test(said)
        ? "podman's default ulimits exceed this machine's limits: set `default_ulimits = []` under [containers] in /etc/containers/containers.conf.d/50-podvoy.conf (scripts/setup does)."
        : SETUP,
    });
  }
  for (const dir of [roots.stateDir, roots.runDir]) {
    const writable = await ensureDir(dir).then(
      () => access(dir, constants.W_OK).then(() => true, () => false),
      () => false,
    );
    checks.push({ name: `state ${dir}`, ok: writable, detail: writable ? 'writable' : 'not writable', fix: 'Run podvoy as root.' });
  }
  return checks;
}

async function tryRun(program: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const result = await runProgram(program, args, { installHint: '' });
    return { ok: result.exitCode === 0, out: (result.stdout || result.stderr).trim() };
  } catch (error) {
    return { ok: false, out: `${program} not found on PATH` };
  }
}
