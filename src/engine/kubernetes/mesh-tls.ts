import { CertificateError } from '../../errors.js';
import type { PodJson } from './cluster-state.js';
import { kubectl, kubectlRaw } from './kubectl.js';
import { annotatePodsArgs, applyArgs, getJsonArgs, namespaceExistsArgs, podProxyGetArgs, type KubeTarget } from './kubectl-args.js';
import { MESH_HASH_ANNOTATION } from './apply.js';

/**
 * One step of a CA rotation on a cluster: the identities' Secrets applied, the kubelets nudged,
 * and a wait until every running Envoy reports, on its /certs, the certificates of that step.
 * On podman podvoy reads that from Envoy's admin socket; here it asks through the apiserver.
 */

/** What the Envoys of one workload must run once a step is applied. */
export interface EnvoyCertificates {
  /** The label selector of the workload's pods. */
  readonly selector: string;
  /** The port of its Envoy's probe listener, which passes GET /certs to the admin interface. */
  readonly probePort: number;
  /** The serial of the first root of its trust bundle. */
  readonly caSerial: string;
  /** The serial of its own certificate. */
  readonly leafSerial: string;
}

export interface MeshTlsStep {
  readonly namespace: string;
  readonly secretsYaml: string;
  /** Per workload, the selector of its pods and a hash of the files they mount (see `nudgeKubelets`). */
  readonly nudges: readonly { readonly selector: string; readonly hash: string }[];
  readonly envoys: readonly EnvoyCertificates[];
}

interface CertDetails {
  serial_number?: string;
}

/** Envoy's /certs: a list of its TLS contexts, each with its CA and its certificate chain. */
interface CertsJson {
  certificates?: { ca_cert?: CertDetails[]; cert_chain?: CertDetails[] }[];
}

function sameSerial(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/^0+/, '');
  return a !== undefined && norm(a) === norm(b);
}

/**
 * Whether an Envoy's /certs shows a context built from these files: Envoy builds every context of
 * a secret anew when it loads it, and older contexts stay listed while connections still use them.
 */
export function runsCertificates(json: string, expected: Pick<EnvoyCertificates, 'caSerial' | 'leafSerial'>): boolean {
  const contexts = (JSON.parse(json) as CertsJson).certificates ?? [];
  return contexts.some(
    (c) => (c.ca_cert ?? []).some((ca) => sameSerial(ca.serial_number, expected.caSerial)) && sameSerial(c.cert_chain?.[0]?.serial_number, expected.leafSerial),
  );
}

/** Applies one step and waits until every running Envoy of the namespace runs it; nothing to do before the first apply. */
export async function applyMeshTlsStep(target: KubeTarget, step: MeshTlsStep, timeoutMs: number): Promise<void> {
  if (!(await kubectl(target, namespaceExistsArgs(step.namespace))).stdout.trim()) return;
  await kubectl(target, applyArgs(), { input: step.secretsYaml });
  for (const { selector, hash } of step.nudges) await kubectl(target, annotatePodsArgs(step.namespace, selector, MESH_HASH_ANNOTATION, hash));
  const deadline = Date.now() + timeoutMs;
  for (const envoy of step.envoys) {
    const pods = (JSON.parse((await kubectl(target, getJsonArgs('pods', step.namespace, envoy.selector))).stdout) as { items: PodJson[] }).items.filter(
      (p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running',
    );
    for (const pod of pods) {
      let last = 'no answer yet';
      for (;;) {
        const result = await kubectlRaw(target, podProxyGetArgs(step.namespace, pod.metadata.name, envoy.probePort, '/certs'));
        if (result.exitCode === 0 && runsCertificates(result.stdout, envoy)) break;
        last = result.exitCode === 0 ? 'older certificates' : result.stderr.trim().split('\n').at(-1) ?? `kubectl exited ${result.exitCode}`;
        if (Date.now() > deadline) {
          throw new CertificateError(
            `Envoy in pod ${pod.metadata.name} did not load the new mesh certificates (CA ${envoy.caSerial}, certificate ${envoy.leafSerial}) within ` +
              `${(timeoutMs / 1000).toFixed(0)} s (${last}). The CA rotation stops here and is finished by the next \`podvoy kube apply\`; ` +
              `kubectl logs ${pod.metadata.name} -c envoy --namespace ${step.namespace} shows what Envoy said.`,
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
