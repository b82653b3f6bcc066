import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StateRoots } from './mesh/layout.js';
import type { DeploymentPlan } from './mesh/plan.js';
import { planDeployment } from './render/deployment.js';
import { PARTIAL_NAMES, TEMPLATE_NAMES, type PrecompiledTemplates, type TemplateSources } from './render/templates.js';
import { loadSpec } from './spec/load.js';
import type { Spec } from './spec/model.js';
import { PACKAGE_ROOT, readTextFiles } from './engine/files.js';
import { ensureImage, resolveImages } from './engine/podman/images.js';

/** The templates, read once per process: a library caller that plays again does not read them again. */
let templateSources: Promise<TemplateSources> | undefined;
let precompiledTemplates: Promise<PrecompiledTemplates> | undefined;

/**
 * The one pipeline every verb starts from: spec file -> model -> resolved images -> planned
 * and rendered deployment. With `pull`, images a pod needs are fetched when missing (render,
 * diff and down pull nothing).
 */
export async function loadDeployment(file: string, roots: StateRoots, pull: boolean): Promise<DeploymentPlan> {
  return planSpec(await loadSpecFor(file, roots), roots, pull);
}

/** Loads a spec that is to run with these roots: no site it serves may hold podvoy's own directories. */
export async function loadSpecFor(file: string, roots: StateRoots): Promise<Spec> {
  return loadSpec(file, { privateDirs: [roots.stateDir, roots.runDir] });
}

/** The pipeline from a loaded spec on: what `play` runs while it lists the pods that run. */
export async function planSpec(spec: Spec, roots: StateRoots, pull: boolean): Promise<DeploymentPlan> {
  templateSources ??= readTemplateSources();
  precompiledTemplates ??= readPrecompiledTemplates();
  const [templates, precompiled, images] = await Promise.all([
    templateSources,
    precompiledTemplates,
    resolveImages(spec.images, { pull }),
    ...(pull
      ? spec.services.flatMap((s) =>
          s.app.kind === 'image' ? [ensureImage(s.app.image, `Fix services.${s.name}.image in the spec, or build that image locally.`)] : [],
        )
      : []),
  ]);
  return planDeployment(spec, { images, roots, templates, precompiled });
}

/** Where `npm run build` puts the templates it precompiled (scripts/precompile-templates.mjs). */
export const PRECOMPILED_TEMPLATES = path.join(PACKAGE_ROOT, 'dist', 'render', 'precompiled-templates.js');

/** The precompiled templates; none when podvoy runs from its sources unbuilt. */
async function readPrecompiledTemplates(): Promise<PrecompiledTemplates> {
  try {
    return ((await import(pathToFileURL(PRECOMPILED_TEMPLATES).href)) as { PRECOMPILED: PrecompiledTemplates }).PRECOMPILED;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return {};
    throw error;
  }
}

/** The templates under templates/ and the partials they share under envoy/partials/. */
export async function readTemplateSources(): Promise<TemplateSources> {
  const [templates, partials] = await Promise.all([
    readTextFiles(path.join(PACKAGE_ROOT, 'templates'), TEMPLATE_NAMES, '.hbs'),
    readTextFiles(path.join(PACKAGE_ROOT, 'envoy', 'partials'), PARTIAL_NAMES, '.hbs'),
  ]);
  return { ...templates, ...partials };
}

/** A spec file names its deployment; so may the user, once the file is gone. */
export async function specNameOf(fileOrName: string): Promise<string> {
  return (await specOrNameOf(fileOrName)).name;
}

/** The deployment a spec file or a name stands for, and the spec (with its file's absolute path) when given a file. */
export async function specOrNameOf(fileOrName: string): Promise<{ name: string; spec?: Spec; file?: string }> {
  const loaded = async () => ({ spec: await loadSpec(fileOrName), file: path.resolve(fileOrName) });
  if (/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(fileOrName) && !fileOrName.includes('.')) {
    const asFile = await loaded().catch(() => undefined);
    return asFile ? { name: asFile.spec.name, ...asFile } : { name: fileOrName };
  }
  const asFile = await loaded();
  return { name: asFile.spec.name, ...asFile };
}
