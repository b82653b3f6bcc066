/** `services.<name>.sidecar`: the Envoy beside each app. */
import type { SpecContext } from './context.js';
import type { Entry, Fields } from './positions.js';
import type { RawPublish } from './raw.js';

export const SIDECAR_KEYS = ['port', 'publish'] as const;

/** A sidecar as read, with the entries its checks against the service's other ports point at. */
export interface SidecarRead {
  readonly fields: Fields['get'];
  readonly port?: number;
  readonly publish?: RawPublish;
  /** Whether a key that was given could not be read. */
  readonly failed: boolean;
}

export function readSidecar(ctx: SpecContext, e: Entry | undefined): SidecarRead {
  const fields = (e && ctx.problems.entries(e.value, e.path, SIDECAR_KEYS)?.get) ?? {};
  const port = fields.port && ctx.containerPort(fields.port);
  const publish = fields.publish && ctx.publish(fields.publish);
  if (publish && fields.publish) ctx.claims.push({ publish, entry: fields.publish });
  return {
    fields,
    ...(port !== undefined && { port }),
    ...(publish !== undefined && { publish }),
    failed: (fields.port !== undefined && port === undefined) || (fields.publish !== undefined && publish === undefined),
  };
}
