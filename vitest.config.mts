import swc from 'unplugin-swc';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/setup/global-setup.ts'],
    setupFiles: ['test/setup/quiet-logs.ts'],
    // Each e2e file boots an app on its own cloned database; Postgres start-up can take seconds on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Vitest's default is one worker per CPU but one, which on a 2-core machine runs the files one at
    // a time while most of each e2e file waits on Postgres or a socket: two overlap those waits.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_REPORT ? { json: process.env.VITEST_JSON_REPORT } : undefined,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.medium-spec.ts', 'test/**/*.e2e-spec.ts', 'test/**/*.browser-spec.ts'],
        },
      },
      {
        // Timing comparisons run after everything else and alone, so other files' load cannot skew them.
        extends: true,
        test: { name: 'timing', include: ['test/**/*.timing-spec.ts'], sequence: { groupOrder: 1 }, fileParallelism: false },
      },
    ],
  },
  // SWC, unlike esbuild, emits decorator metadata, which Nest's dependency injection needs.
  plugins: [swc.vite({ module: { type: 'es6' } })],
});
