import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript source ("source" export condition).
  // Without the bundlers' "module" condition, like Node: the AWS SDK's "module" build
  // has extension-less imports that only a bundler resolves.
  ssr: {
    resolve: {
      conditions: ['source', ...defaultServerConditions.filter((c) => c !== 'module')],
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Every file gets its own process: native modules and open sockets stay isolated.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    env: { EASY_CHAT_ENV: 'test' },
  },
});
