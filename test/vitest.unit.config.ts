import { defineConfig } from 'vitest/config';

/** The pure parts (merge, censoring, plans): no build, no spawned process, seconds (`npm run test:unit`). */
export default defineConfig({
  test: {
    include: ['test/unit/*.test.ts'],
    pool: 'threads',
  },
});
