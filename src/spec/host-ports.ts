import type { SpecContext } from './context.js';
import { effectiveHostIP } from './fields.js';
import type { Entry } from './positions.js';
import type { RawPublish } from './raw.js';

/** A host port the spec publishes, and the key that publishes it. */
export interface Claim {
  readonly publish: RawPublish;
  readonly entry: Entry;
}

const ANY_IP = '0.0.0.0';

/**
 * Reports, in source order, each host port published where an earlier one already is. Linear: the
 * claims are indexed by port, and an address clashes with the same address or with 0.0.0.0.
 */
export function checkHostPorts(ctx: SpecContext): void {
  const offset = (c: Claim) => c.entry.at.range?.[0] ?? 0;
  // Per port: the first claim of each address.
  const byPort = new Map<number, Map<string, Claim>>();
  for (const claim of [...ctx.claims].sort((a, b) => offset(a) - offset(b))) {
    const hostIP = effectiveHostIP(claim.publish);
    const { hostPort } = claim.publish;
    const taken = byPort.get(hostPort) ?? new Map<string, Claim>();
    byPort.set(hostPort, taken);
    const other = hostIP === ANY_IP ? taken.values().next().value : (taken.get(hostIP) ?? taken.get(ANY_IP));
    if (!other) {
      taken.set(hostIP, claim);
      continue;
    }
    const fix = [claim, other].every((c) => c.entry.path.startsWith('services.'))
      ? 'Publish each service on its own port.'
      : 'Give the gateway and each published sidecar a host port of their own.';
    ctx.fail(
      claim.entry.at,
      claim.entry.path,
      `Host port ${hostIP}:${hostPort} clashes with ${other.entry.path} (${effectiveHostIP(other.publish)}:${other.publish.hostPort}). ${fix}`,
    );
  }
}
