/** What is running: pods and their health, and the traffic on each caller's cluster of each service. */
export interface LiveMesh {
  readonly windowSeconds: number;
  readonly pods: readonly { readonly service: string; readonly pod: string; readonly healthy: boolean; readonly failures: readonly string[] }[];
  /** By caller (`gateway` or a service) and callee. */
  readonly traffic: readonly { readonly from: string; readonly to: string; readonly rps: number; readonly successRate: number | null }[];
}
