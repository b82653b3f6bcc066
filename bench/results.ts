import type { CliResult } from './cli.js';
import type { CompressionResult } from './compression.js';
import type { DataPlaneResult } from './dataplane.js';
import type { DeployResult } from './deploy.js';
import type { KubeResult } from './kube.js';
import type { Machine } from './machine.js';
import type { EnvoyHeap, Rss } from './memory.js';
import type { MeshChangeResult } from './mesh-change.js';
import type { MtlsResult } from './mtls.js';
import type { ScaleResult } from './scale.js';

/** Everything one run measured: written as bench/results/latest.json, rendered as latest.md. */

export interface MemoryRow {
  readonly container: string;
  readonly role: string;
  /** Whether this is a service's sidecar (the idle-memory goal's subject). */
  readonly sidecar: boolean;
  readonly idle: Rss;
  /** Envoys only: their allocator's view when idle (admin /memory). */
  readonly envoyHeap?: EnvoyHeap;
  /** Peak over the maximum-rate runs; absent for containers on none of the loaded paths. */
  readonly underLoad?: Rss;
}

export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  /** "met", or "missed by X (why)". */
  readonly verdict: string;
}

export interface Results {
  readonly machine: Machine;
  readonly dataPlane: DataPlaneResult;
  /** A 100 KiB HTML page through the gateway, uncompressed, gzip and brotli; absent from runs before it existed. */
  readonly compression?: CompressionResult;
  /** Gateway -> sidecar with mTLS against without, two meshes side by side. */
  readonly mtls: MtlsResult;
  readonly memory: readonly MemoryRow[];
  /** Through the library's play, in this process. */
  readonly meshChange: MeshChangeResult;
  /** Through `podvoy play`, a new process each time, as a user runs it. */
  readonly meshChangeCli: MeshChangeResult;
  /** The same through the CLI on the mTLS mesh (mTLS on, as the examples ship); absent from runs before it existed. */
  readonly meshChangeCliMtls?: MeshChangeResult;
  /** Quick verbs as new processes: podvoy ps against podman ps. */
  readonly cli: CliResult;
  readonly deploy: DeployResult;
  readonly scale: ScaleResult;
  /** The mesh example on podman and on a single-node cluster, side by side; absent from runs before it existed. */
  readonly kube?: KubeResult;
  /** Seconds, per section and in all (setup included when bench/run passes it). */
  readonly wallSeconds: Readonly<Record<string, number>>;
  readonly goals: readonly Goal[];
}
