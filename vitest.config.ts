import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/golden/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/e2e-global-setup.ts'],
          // One podman, one set of host ports: end-to-end files run one after another.
          fileParallelism: false,
          // Groups run one after another, lowest first: unit (0), e2e (1), kube (2), kube-down (3).
          // Without it, vitest runs a project without file parallelism after all the others.
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Against one real single-node Kubernetes, started once by the global setup
          // (scripts/kube-up). Runs after the podman tests, so the two never share the 2 cores.
          name: 'kube',
          include: ['test/e2e-kube/**/*.test.ts'],
          globalSetup: ['test/support/kube-global-setup.ts'],
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          // Last: takes the cluster down and checks the host is as it was before.
          name: 'kube-down',
          include: ['test/e2e-kube-down/**/*.test.ts'],
          sequence: { groupOrder: 3 },
          testTimeout: 300_000,
        },
      },
    ],
  },
});
