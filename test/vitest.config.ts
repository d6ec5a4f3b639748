import { defineConfig } from 'vitest/config';

/** The fast suite (`npm test`): everything but the multi-clone fleet scenarios of test/fleet/. */
export default defineConfig({
  test: {
    include: ['test/*.test.ts'],
    testTimeout: 30_000 * timeoutScale(),
    hookTimeout: 30_000 * timeoutScale(),
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
  },
});

/** ROOSYNC_TEST_TIMEOUT_SCALE=3 on a slow or loaded machine: every timeout grows, no assertion changes. */
export function timeoutScale(): number {
  return Math.max(1, Number(process.env.ROOSYNC_TEST_TIMEOUT_SCALE ?? 1) || 1);
}
