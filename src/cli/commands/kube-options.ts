/** The options every `podvoy kube` verb takes. */
export interface KubeCliOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly registry?: string;
  /** Seconds. */
  readonly timeout?: number;
}
