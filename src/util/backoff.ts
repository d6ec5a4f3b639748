/** Exponential backoff with jitter (×0.5 to ×1.5), so machines that lost the same race do not retry together. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return baseMs * 2 ** (attempt - 1) * (0.5 + random());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
