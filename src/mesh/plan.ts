import { createHash } from 'node:crypto';
import type { Service, Spec } from '../spec/model.js';
import type { TemplateSources } from '../render/templates.js';
import { podPaths, type PodPaths, type StateRoots } from './layout.js';
import { LABELS, podName, serviceUrl } from './names.js';

/** The images one pod runs, resolved to references podman can use. */
export interface PodImages {
  readonly nginx: string;
  readonly envoy: string;
}

/** Everything needed to render and run one service's pod: a pure function of its inputs. */
export interface PodPlan {
  readonly spec: Spec;
  readonly service: Service;
  /** Short hash of every input that shapes the pod; equal revisions mean nothing to change. */
  readonly revision: string;
  readonly pod: string;
  readonly images: PodImages & { readonly app?: string };
  readonly paths: PodPaths;
  readonly labels: Readonly<Record<string, string>>;
  readonly url?: string;
}

export function planPod(
  spec: Spec,
  service: Service,
  images: PodImages,
  roots: StateRoots,
  templates: TemplateSources,
): PodPlan {
  const podImages = service.app.kind === 'image' ? { ...images, app: service.app.image } : images;
  const revision = createHash('sha256')
    .update(JSON.stringify({ spec: spec.name, service, images: podImages, roots, templates }))
    .digest('hex')
    .slice(0, 8);
  const pod = podName(spec, service, revision);
  const url = serviceUrl(service);
  const labels: Record<string, string> = {
    [LABELS.spec]: spec.name,
    [LABELS.service]: service.name,
    [LABELS.revision]: revision,
  };
  if (url) labels[LABELS.url] = url;
  return { spec, service, revision, pod, images: podImages, paths: podPaths(roots, spec.name, pod), labels, url };
}
