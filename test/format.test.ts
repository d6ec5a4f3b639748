import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatTime, plural } from '../src/util/format.js';
import { renderFleetStatus } from '../src/report/fleetStatus.js';
import { NOW } from './helpers.js';

const MIN = 60_000;

describe('times and numbers for a person', () => {
  it('plurals by the English rules: 1 day, 0 ticks, 2 days', () => {
    expect(plural(1, 'day')).toBe('1 day');
    expect(plural(0, 'tick')).toBe('0 ticks');
    expect(plural(2, 'day')).toBe('2 days');
    expect(plural(3, 'entry', 'entries')).toBe('3 entries');
  });

  it('relative times both ways, never a negative age', () => {
    expect(formatAgo(5 * MIN)).toBe('5 minutes ago');
    expect(formatAgo(1 * MIN)).toBe('1 minute ago');
    expect(formatAgo(0)).toBe('this minute');
    expect(formatAgo(-86 * MIN)).toBe('in 86 minutes');
    expect(formatAgo(5 * 60 * MIN)).toBe('5 hours ago');
    expect(formatAgo(3 * 24 * 60 * MIN)).toBe('3 days ago');
  });

  it('words relative times exactly as Intl.RelativeTimeFormat does, from 3,000 days ago to 3,000 days ahead', () => {
    const intl = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
    const reference = (ms: number) => {
      const minutes = Math.round(-ms / MIN);
      if (Math.abs(minutes) < 120) return intl.format(minutes, 'minute');
      const hours = Math.round(minutes / 60);
      if (Math.abs(hours) < 48) return intl.format(hours, 'hour');
      return intl.format(Math.round(hours / 24), 'day');
    };
    const samples = [-0, 29_999, 30_000, -30_000, -30_001, 119.5 * MIN, 47.5 * 60 * MIN, 36 * 60 * MIN];
    for (let m = -3000 * 1440; m <= 3000 * 1440; m += m > -2880 && m < 2880 ? 1 : 97) samples.push(m * MIN);
    const differ = samples.filter((ms) => formatAgo(ms) !== reference(ms));
    expect(differ.map((ms) => `${ms}: ${formatAgo(ms)} ≠ ${reference(ms)}`)).toEqual([]);
  });

  it('times carry their zone; sizes their unit', () => {
    expect(formatTime(NOW)).toBe('2026-11-23 12:00 UTC');
    expect(formatBytes(79827 * 1024 * 1024)).toBe('78 GB');
    expect(formatBytes(1536)).toBe('1.5 KB');
  });

  it('status: a lease renewed in the future is clock skew, not "-86 min ago"', () => {
    const lines = renderFleetStatus({
      leader: {
        holder: 'myia-ai-01',
        term: 3,
        acquiredAt: '2026-11-23T10:00:00.000Z',
        ageMinutes: -86,
        released: false,
        live: true,
      },
      machines: [],
      kpis: [],
      rooHeartbeats: [],
      silent: [],
      malformed: [],
      versions: [],
      components: [],
    } as unknown as Parameters<typeof renderFleetStatus>[0]);
    expect(lines[0]).toMatch(
      /^leader: myia-ai-01, term 3 since 2026-11-23 10:00 UTC.*, renewed in 86 minutes by this machine's clock: one of the two clocks is off$/,
    );
    expect(lines.join('\n')).not.toMatch(/-\d+ min/);
  });
});
