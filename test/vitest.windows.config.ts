import { defineConfig } from 'vitest/config';
import { timeoutScale } from './vitest.config.js';

/**
 * The Windows suite (`npm run test:windows`): the real CLI under the Windows node.exe in Wine. It needs
 * `.ci/windows-setup.sh <root>` and ROOSYNC_WIN_ROOT=<root>; without them it is one visible skip with the reason.
 * Its steps share one Wine prefix and one D: drive, so they run in order, one file at a time.
 */
export default defineConfig({
  test: {
    include: ['test/windows/*.test.ts'],
    testTimeout: 300_000 * timeoutScale(),
    hookTimeout: 120_000 * timeoutScale(),
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
    globalSetup: ['test/globalSetup.ts'],
  },
});
