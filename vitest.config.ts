import { defineConfig } from 'vitest/config';

// Four projects, all against real things: `unit` calls apps through app.request() and
// may start a private PostgreSQL; `integration` (*.int.test.ts) adds real daprd and
// Redis; `e2e` runs the whole shop through the supervisor, one file at a time; `deploy`
// renders the Helm chart and installs it into a real API server.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts'],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false },
      },
      {
        extends: true,
        // The Helm chart, rendered by a real helm (built once from its Go module, cached).
        test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'] },
      },
    ],
  },
});
