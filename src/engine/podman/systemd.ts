import path from 'node:path';
import { NotDeployedError } from '../../errors.js';
import { IN_POD } from '../../mesh/contract.js';
import { podPaths, type StateRoots } from '../../mesh/layout.js';
import { ensureDir, writeFileAtomic } from '../files.js';
import { podman } from './podman.js';
import { generateSystemdArgs } from './args.js';
import { listPods } from './pods.js';

export interface SystemdUnits {
  readonly dir: string;
  /** The pod units to enable (each pulls in its containers' units). */
  readonly podUnits: readonly string[];
  /** Every file written: podman's units and podvoy's tmpfiles.d snippet. */
  readonly files: readonly string[];
  /** With mTLS: the timer (to enable) that renews the mesh's certificates every hour. */
  readonly timer?: string;
}

/**
 * Writes systemd units that start a deployment's pods at boot, made by podman's own generator,
 * and a tmpfiles.d snippet that recreates the pods' directories under /run (a tmpfs) first.
 * The units name pods by revision: write them again after a play that replaced pods.
 */
export async function writeSystemdUnits(
  specName: string,
  roots: StateRoots,
  outDir: string,
  /** Units of podvoy's own to write beside podman's (the certificate renewal service and its timer). */
  extra?: { readonly files: readonly { readonly name: string; readonly text: string }[]; readonly timer: string },
): Promise<SystemdUnits> {
  const pods = (await listPods(specName)).filter((p) => p.status === 'Running');
  if (!pods.length) throw new NotDeployedError(`Nothing of ${specName} is running. Play it first; units are made from the running pods.`);
  await ensureDir(outDir, 0o755);
  const files: string[] = [];
  for (const pod of pods) {
    const { stdout } = await podman(generateSystemdArgs(pod.name), { cwd: outDir });
    files.push(...stdout.split('\n').filter(Boolean));
  }
  // Type path mode user group: d creates a directory at boot if it is missing.
  const lines = pods.flatMap((pod) => {
    const paths = podPaths(roots, specName, pod.name);
    return [
      `d ${paths.runDir} 0700 root root -`,
      `d ${paths.adminDir} 0700 ${IN_POD.uid} ${IN_POD.uid} -`,
      `d ${paths.tmpDir} 1777 root root -`,
    ];
  });
  const tmpfiles = path.join(outDir, `podvoy-${specName}.conf`);
  await writeFileAtomic(tmpfiles, `# The run directories of ${specName}'s pods, made at boot (systemd-tmpfiles).\n${lines.join('\n')}\n`);
  files.push(tmpfiles);
  for (const unit of extra?.files ?? []) {
    await writeFileAtomic(path.join(outDir, unit.name), unit.text);
    files.push(path.join(outDir, unit.name));
  }
  return { dir: outDir, podUnits: pods.map((p) => `pod-${p.name}.service`), files, ...(extra ? { timer: extra.timer } : {}) };
}
