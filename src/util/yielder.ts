import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets long synchronous work give the event loop a turn every `everyMs`, so signals, timers
 * and progress are served while a scan or removal runs unit by unit.
 */
export function createYielder(everyMs = 20): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await nextTurn();
    last = performance.now();
  };
}
