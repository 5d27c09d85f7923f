import { defineConfig } from 'vitest/config';

// Four projects, each named for what it starts, all against real things: `app` calls an
// app in process through app.request() against a real database (PostgreSQL and PGlite);
// `sidecar` (*.int.test.ts) adds real daprd, Redis and brokers; `shop` runs the whole shop
// through the supervisor, one file at a time; `deploy` renders the Helm chart and installs
// it into a real API server.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'app',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'sidecar',
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts'],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'shop',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // On a failed test, the shop's own warnings and errors go to the test output.
          setupFiles: ['test/e2e/support/report-failures.ts'],
        },
      },
      {
        extends: true,
        // The Helm chart, rendered by a real helm (built once from its Go module, cached).
        test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'] },
      },
    ],
  },
});
