import { defineConfig } from 'vitest/config';
import { timeoutScale } from './vitest.config.js';

/**
 * The fleet suite (`npm run test:fleet`): several clones of a real bare remote, each machine a real CLI
 * process on a simulated clock. Files run one at a time: they are heavy, and a 2-core machine must not
 * time them out by running them side by side.
 */
export default defineConfig({
  test: {
    include: ['test/fleet/*.test.ts'],
    testTimeout: 300_000 * timeoutScale(),
    hookTimeout: 60_000 * timeoutScale(),
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/globalSetup.ts'],
  },
});
