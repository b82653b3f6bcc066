import { NotDeployedError } from '../../errors.js';
import { GATEWAY } from '../../mesh/names.js';
import type { DeploymentPlan } from '../../mesh/plan.js';
import { listPods } from '../podman/pods.js';
import { withLock } from '../rollout/lock.js';
import { watchingEnvoys } from '../rollout/retire.js';
import { ensureAcmeCertificate, type AcmeOptions, type AcmeStatus } from './index.js';

/**
 * `podvoy certs renew` for the gateway's ACME certificate: the running gateway answers the
 * challenges, under the deployment's lock so that no play rewrites its listener file meanwhile.
 */
export async function renewGatewayCertificate(deployment: DeploymentPlan, options: AcmeOptions): Promise<AcmeStatus> {
  const { spec, roots } = deployment;
  return withLock(roots, spec.name, async () => {
    const running = (await listPods(spec.name)).filter((p) => p.status === 'Running');
    const gateway = watchingEnvoys({ specName: spec.name, roots }, running, deployment.meshWatchers).find((w) => w.envoy === GATEWAY);
    if (!gateway) throw new NotDeployedError(`The gateway of ${spec.name} is not running, and it answers the ACME challenges. Run \`podvoy play ${spec.file}\` first.`);
    return ensureAcmeCertificate(spec.name, deployment.acme!, gateway, options);
  });
}
