import { MINUTE_MS } from './time.js';
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// made on first use: ICU's data costs ~15 ms to load, and the quiet tick never formats a plural
let plurals: Intl.PluralRules | undefined;
let relative: Intl.RelativeTimeFormat | undefined;

/** `1 day`, `2 days`, `0 ticks`: English plural rules (Intl.PluralRules), the plural form given when irregular. */
export function plural(n: number, word: string, many = `${word}s`): string {
  plurals ??= new Intl.PluralRules('en');
  return `${n} ${plurals.select(n) === 'one' ? word : many}`;
}

/**
 * `5 minutes ago`, `in 2 hours`, `yesterday` (Intl.RelativeTimeFormat): `ms` is how long ago, negative
 * for the future; minutes under two hours, hours under two days, then days.
 */
export function formatAgo(ms: number): string {
  relative ??= new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const minutes = Math.round(-ms / MINUTE_MS);
  if (Math.abs(minutes) < 120) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return relative.format(hours, 'hour');
  return relative.format(Math.round(hours / 24), 'day');
}

/**
 * `2026-11-23 12:00 UTC (13:00 local)`: the one time format a person reads. UTC first (a fleet spans zones), this
 * machine's local time beside it when its zone is not UTC (with the date when the day differs).
 */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const utc = d.toISOString().slice(0, 16).replace('T', ' ');
  const offset = d.getTimezoneOffset();
  if (offset === 0) return `${utc} UTC`;
  const local = new Date(ms - offset * MINUTE_MS).toISOString().slice(0, 16).replace('T', ' ');
  return `${utc} UTC (${local.slice(0, 10) === utc.slice(0, 10) ? local.slice(11) : local} local)`;
}

/** `45 min`, `25 h 0 min`: minutes up to two hours, then hours and minutes. */
export function formatDuration(ms: number): string {
  const m = Math.round(ms / MINUTE_MS);
  return m < 120 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
