import picomatch from 'picomatch';
import { pathKey } from '../util/paths.js';
import { MINUTE_MS, DAY_MS } from '../util/time.js';
import { formatBytes, formatDate } from '../util/format.js';
import { dateFromName, familyOf } from './dates.js';
import type { RetentionRule } from './rule.js';

/** What the scanner saw of one candidate unit (a file, or a folder taken whole). */
export interface Entry {
  /** Path relative to the rule's root, `/`-separated. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  bytes: number;
  files: number;
  /** Newest mtime of the unit and everything inside it. */
  newestMtimeMs: number;
  /** Newest mtime of the files directly beside the unit (only with ageIncludesParentFiles). */
  parentNewestMtimeMs?: number;
  /** First path inside a folder unit whose name matches an exclude glob. */
  excludedInside?: string;
  /** The unit could not be read fully; it is left alone. */
  unreadable?: string;
  /** A folder an interrupted run had already set aside for removal. */
  interrupted?: boolean;
}

export type Verdict = 'remove' | 'keep' | 'skip';

export interface Action {
  rel: string;
  kind: Entry['kind'];
  verdict: Verdict;
  reason: string;
  bytes: number;
  files: number;
  dateMs: number;
  dateSource: 'name' | 'mtime';
}

export interface PlanTotals {
  scanned: number;
  remove: number;
  keep: number;
  skip: number;
  bytesToFree: number;
}

export interface RulePlan {
  rule: RetentionRule;
  now: number;
  actions: Action[];
  totals: PlanTotals;
}

/** Clock skew between machines: a date this little ahead of `now` is just "now". */
export const FUTURE_TOLERANCE_MS = 10 * MINUTE_MS;

function basename(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '.' : rel.slice(0, i);
}

function day(ms: number): string {
  return formatDate(ms).slice(0, 10);
}

interface Dated {
  entry: Entry;
  dateMs: number;
  dateSource: 'name' | 'mtime';
  group: string;
}

function dateEntry(entry: Entry, rule: RetentionRule): Dated {
  const name = basename(entry.rel);
  const fromName = rule.dateFrom === 'name-or-mtime' ? dateFromName(name) : undefined;
  const mtime = Math.max(entry.newestMtimeMs, rule.ageIncludesParentFiles ? (entry.parentNewestMtimeMs ?? 0) : 0);
  const group =
    rule.groupBy === 'family' ? familyOf(name, fromName) : rule.groupBy === 'parent' ? parentOf(entry.rel) : '';
  return fromName
    ? { entry, dateMs: fromName.ms, dateSource: 'name', group }
    : { entry, dateMs: mtime, dateSource: 'mtime', group };
}

/** Why an entry must be left alone whatever the policy says, if it must. */
function safetyReason(
  d: Dated,
  rule: RetentionRule,
  now: number,
  protectedRels: ReadonlyMap<string, string>,
): string | undefined {
  const { entry } = d;
  if (entry.interrupted) return undefined;
  const rel = pathKey(entry.rel);
  const forbidden = rule.forbidden?.find((f) => rel === pathKey(f) || rel.startsWith(`${pathKey(f)}/`));
  if (forbidden) return `protected: ${forbidden}/ is never touched`;
  if (entry.kind === 'symlink') return 'symbolic link: never followed, never removed';
  if (entry.kind === 'other') return 'not a regular file or folder';
  if (entry.unreadable) return `could not be read fully (${entry.unreadable}): left alone`;
  const name = basename(entry.rel);
  const excludeMatch = rule.exclude.find((g) => picomatch.isMatch(name, g, { dot: true }));
  if (excludeMatch) return `excluded: matches ${excludeMatch}`;
  if (entry.excludedInside) return `excluded: contains ${entry.excludedInside} (matches ${rule.exclude.join(' or ')})`;
  const protection = protectedRels.get(entry.rel);
  if (protection) return protection;
  if (d.dateMs > now + FUTURE_TOLERANCE_MS)
    return (
      `dated in the future (${formatDate(d.dateMs)}, from its ${d.dateSource}): never removed; check the ` +
      `clock of the machine that wrote it`
    );
  return undefined;
}

/**
 * The retention policy as a pure function, after restic's `forget`: entries + rule + now → a
 * verdict and a reason for every entry. Safety first (symlinks, exclusions, protected paths,
 * future dates), then the newest K of each group, then age, then the size cap, then the
 * per-run cap. The policy's keeps are a union: anything any keep rule wants stays.
 */
export function planRetention(
  entries: readonly Entry[],
  rule: RetentionRule,
  now: number,
  protectedRels: ReadonlyMap<string, string> = new Map(),
): RulePlan {
  const actions = new Map<string, Action>();
  const decide = (d: Dated, verdict: Verdict, reason: string) =>
    actions.set(d.entry.rel, {
      rel: d.entry.rel,
      kind: d.entry.kind,
      verdict,
      reason,
      bytes: d.entry.bytes,
      files: d.entry.files,
      dateMs: d.dateMs,
      dateSource: d.dateSource,
    });

  const candidates: Dated[] = [];
  for (const entry of entries) {
    const d = dateEntry(entry, rule);
    if (entry.interrupted) {
      decide(d, 'remove', 'set aside by an interrupted run: finishing its removal');
      continue;
    }
    const unsafe = safetyReason(d, rule, now, protectedRels);
    if (unsafe) decide(d, 'skip', unsafe);
    else candidates.push(d);
  }

  const newestFirst = (a: Dated, b: Dated) => b.dateMs - a.dateMs || a.entry.rel.localeCompare(b.entry.rel);
  const keptAsNewest = new Set<string>();
  if (rule.keepNewest !== undefined) {
    const groups = new Map<string, Dated[]>();
    for (const d of candidates) groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
    for (const [group, members] of groups) {
      members.sort(newestFirst);
      const label = rule.groupBy === 'none' ? '' : rule.groupBy === 'parent' ? ` in ${group}/` : ` of family ${group}`;
      members.forEach((d, i) => {
        if (i < rule.keepNewest!) {
          keptAsNewest.add(d.entry.rel);
          decide(
            d,
            'keep',
            `${rule.keepNewest === 1 ? 'the newest' : `one of the ${rule.keepNewest} newest`}${label} (dated ${day(d.dateMs)})`,
          );
        } else if (rule.olderThanDays === undefined) {
          decide(
            d,
            'remove',
            `beyond the ${rule.keepNewest} newest${label} (dated ${day(d.dateMs)}, from its ${d.dateSource})`,
          );
        }
      });
    }
  }

  const cutoff = rule.olderThanDays === undefined ? undefined : now - rule.olderThanDays * DAY_MS;
  for (const d of candidates) {
    if (keptAsNewest.has(d.entry.rel) || actions.has(d.entry.rel)) continue;
    if (cutoff === undefined) decide(d, 'keep', 'no age limit');
    else if (d.dateMs < cutoff)
      decide(d, 'remove', `older than ${rule.olderThanDays} days: dated ${day(d.dateMs)} (from its ${d.dateSource})`);
    else decide(d, 'keep', `newer than ${rule.olderThanDays} days: dated ${day(d.dateMs)} (from its ${d.dateSource})`);
  }

  if (rule.maxTotalBytes !== undefined) {
    let remaining =
      entries.reduce((sum, e) => sum + e.bytes, 0) -
      [...actions.values()].filter((a) => a.verdict === 'remove').reduce((s, a) => s + a.bytes, 0);
    const overCap = candidates
      .filter((d) => actions.get(d.entry.rel)?.verdict === 'keep' && !keptAsNewest.has(d.entry.rel))
      .sort((a, b) => -newestFirst(a, b));
    const before = remaining;
    for (const d of overCap) {
      if (remaining <= rule.maxTotalBytes) break;
      remaining -= d.entry.bytes;
      decide(
        d,
        'remove',
        `over the ${formatBytes(rule.maxTotalBytes)} cap of ${rule.label} (${formatBytes(before)} after age ` +
          `rules): oldest first, dated ${day(d.dateMs)}`,
      );
    }
  }

  if (rule.maxDeletionsPerRun !== undefined) {
    const removals = [...actions.values()]
      .filter((a) => a.verdict === 'remove')
      .sort((a, b) => a.dateMs - b.dateMs || a.rel.localeCompare(b.rel));
    for (const a of removals.slice(rule.maxDeletionsPerRun)) {
      actions.set(a.rel, {
        ...a,
        verdict: 'skip',
        reason: `deferred to a later run: at most ${rule.maxDeletionsPerRun} removals a run (${a.reason})`,
      });
    }
  }

  const sorted = [...actions.values()].sort((a, b) => a.rel.localeCompare(b.rel));
  return { rule, now, actions: sorted, totals: totalsOf(sorted) };
}

export function totalsOf(actions: readonly Action[]): PlanTotals {
  const t: PlanTotals = { scanned: actions.length, remove: 0, keep: 0, skip: 0, bytesToFree: 0 };
  for (const a of actions) {
    t[a.verdict]++;
    if (a.verdict === 'remove') t.bytesToFree += a.bytes;
  }
  return t;
}
