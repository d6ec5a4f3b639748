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

// made on first use: ICU's data costs milliseconds to load, and the quiet tick never formats a plural
let plurals: Intl.PluralRules | undefined;

/** `1 day`, `2 days`, `0 ticks`: English plural rules (Intl.PluralRules), the plural form given when irregular. */
export function plural(n: number, word: string, many = `${word}s`): string {
  plurals ??= new Intl.PluralRules('en');
  return `${n} ${plurals.select(n) === 'one' ? word : many}`;
}

/** What Intl.RelativeTimeFormat('en', { numeric: 'auto' }) says for -1, 0 and 1 of each unit. */
const NAMED_OFFSETS: Record<'minute' | 'hour' | 'day', Record<string, string>> = {
  minute: { '0': 'this minute' },
  hour: { '0': 'this hour' },
  day: { '-1': 'yesterday', '0': 'today', '1': 'tomorrow' },
};

/** `in 5 minutes`, `1,234 days ago`: English, as Intl.RelativeTimeFormat words it (test/format.test.ts compares). */
function relative(value: number, unit: 'minute' | 'hour' | 'day'): string {
  const named = NAMED_OFFSETS[unit][String(value === 0 ? 0 : value)];
  if (named) return named;
  const n = Math.abs(value);
  const amount = `${String(n).replace(/\B(?=(\d{3})+$)/g, ',')} ${n === 1 ? unit : `${unit}s`}`;
  return value < 0 ? `${amount} ago` : `in ${amount}`;
}

/**
 * `5 minutes ago`, `in 2 hours`, `yesterday`: `ms` is how long ago, negative for the future; minutes under two
 * hours, hours under two days, then days. Written out rather than asked of Intl.RelativeTimeFormat, whose ICU data
 * cost every full tick ~10 ms of CPU to load.
 */
export function formatAgo(ms: number): string {
  const minutes = Math.round(-ms / MINUTE_MS);
  if (Math.abs(minutes) < 120) return relative(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return relative(hours, 'hour');
  return relative(Math.round(hours / 24), 'day');
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
