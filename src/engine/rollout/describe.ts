import { createTwoFilesPatch } from 'diff';
import path from 'node:path';
import { specStateDir, type StateRoots } from '../../mesh/layout.js';
import type { PodAction, RolloutPlan } from './plan.js';

/** A rollout plan as `podvoy diff` shows it and `play --dry-run --json` prints it. */
export interface RolloutDiff {
  readonly spec: string;
  /** Whether play would change anything at all. */
  readonly changes: boolean;
  readonly pods: readonly {
    readonly service: string;
    readonly pod: string;
    readonly action: PodAction | 'unchanged' | 'retire';
    /** For a replacement: the pods it replaces. */
    readonly replaces?: readonly string[];
  }[];
  /** Each mesh file that changes, as a unified diff; its path is relative to the deployment's state directory. */
  readonly meshFiles: readonly { readonly path: string; readonly envoy: string; readonly patch: string }[];
  /** Envoys that start or stop (their pods do); every other Envoy applies the mesh files as it runs. */
  readonly envoys: { readonly starting: readonly string[]; readonly stopping: readonly string[] };
}

export function describeRollout(plan: RolloutPlan, roots: StateRoots): RolloutDiff {
  const starts = [...plan.starts, ...(plan.gateway ? [plan.gateway] : [])];
  const replaced = new Set<string>();
  const pods: RolloutDiff['pods'][number][] = [
    ...plan.unchanged.map((u) => ({ service: u.service, pod: u.pod, action: 'unchanged' as const })),
    ...starts.map((s) => {
      const olds = s.action === 'replace' ? plan.retire.filter((p) => p.service === s.service).map((p) => p.name) : [];
      olds.forEach((o) => replaced.add(o));
      return { service: s.service, pod: s.pod, action: s.action, ...(olds.length ? { replaces: olds } : {}) };
    }),
    ...plan.retire.map((p) => ({ service: p.service, pod: p.name, action: 'retire' as const })),
  ];
  const base = specStateDir(roots, plan.spec);
  const meshFiles = plan.meshChanges.map(({ file, before }) => {
    const name = path.relative(base, file.path);
    return {
      path: name,
      envoy: file.envoy,
      patch: createTwoFilesPatch(before === undefined ? '/dev/null' : `a/${name}`, `b/${name}`, before ?? '', file.text, undefined, undefined, { context: 3 }),
    };
  });
  return {
    spec: plan.spec,
    changes: pods.some((p) => p.action !== 'unchanged') || meshFiles.length > 0,
    pods,
    meshFiles,
    envoys: { starting: starts.map((s) => s.pod), stopping: plan.retire.filter((p) => p.status === 'Running').map((p) => p.name) },
  };
}
