import { DAY_MS, HOUR_MS, MINUTE_MS } from '../util/time.js';
const UNIT_MS = { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS } as const;
export const DURATION_PATTERN = /^(\d+)(m|h|d)$/;

/** `15m`, `6h`, `30d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (expected <n>m, <n>h or <n>d)`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
