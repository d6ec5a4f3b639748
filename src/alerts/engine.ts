import { HOUR_MS } from '../util/time.js';
import type { CheckResult } from '../health/types.js';

/** What this machine remembers of one condition (local state; the incidents go to the shared history). */
export interface AlertEntry {
  failures: number;
  firstFailureAt: number;
  openedAt?: number;
  lastSentAt?: number;
  severity: CheckResult['severity'];
}

export type AlertState = Record<string, AlertEntry>;

export interface AlertPolicy {
  failureThreshold: number;
  reminderHours: number;
  /** Open this long, an alert is escalated one severity up at its next reminder. */
  escalateAfterHours?: number;
}

export type AlertEventKind = 'alert' | 'reminder' | 'resolved';

export interface AlertEvent {
  kind: AlertEventKind;
  key: string;
  result: CheckResult;
  severity: CheckResult['severity'];
  /** For `resolved`: how long the condition lasted. */
  downtimeMs?: number;
  openedAt?: number;
}

export interface Incident {
  key: string;
  check: string;
  subject: string;
  machine: string;
  start: string;
  end: string;
}

export function alertKey(machine: string, r: Pick<CheckResult, 'check' | 'subject'>): string {
  return `${r.check}|${machine}|${r.subject}`;
}

const UP: Record<CheckResult['severity'], CheckResult['severity']> = { LOW: 'MEDIUM', MEDIUM: 'HIGH', HIGH: 'HIGH' };
const RANK: Record<CheckResult['severity'], number> = { LOW: 0, MEDIUM: 1, HIGH: 2 };

/**
 * The alert rules, pure: results of this tick + what was remembered + now → new memory, the
 * messages to send, the incidents that closed. An alert opens after `failureThreshold`
 * consecutive failures (a token has no such grace: its expiry is not flaky), is reminded at
 * most every `reminderHours` while it lasts (escalated after `escalateAfterHours`), and closes
 * with a `resolved` event stating the downtime. A failing result that inhibits others (remote
 * unreachable) mutes theirs on the same machine. Skipped results change nothing.
 */
export function evaluateAlerts(
  machine: string,
  results: readonly CheckResult[],
  state: AlertState,
  now: number,
  policy: AlertPolicy,
): { state: AlertState; events: AlertEvent[]; incidents: Incident[] } {
  const next: AlertState = { ...state };
  const events: AlertEvent[] = [];
  const incidents: Incident[] = [];
  const inhibitors = results.filter((r) => r.state === 'failing' && r.inhibits);
  const muted = (r: CheckResult) =>
    inhibitors.some(
      (i) => i !== r && i.inhibits!.check === r.check && r.subject.startsWith(i.inhibits!.subjectPrefix ?? ''),
    );
  for (const r of results) {
    if (r.state === 'skipped') continue;
    const key = alertKey(machine, r);
    const prev = next[key];
    if (r.state === 'ok') {
      if (prev?.openedAt !== undefined) {
        events.push({
          kind: 'resolved',
          key,
          result: r,
          severity: prev.severity,
          downtimeMs: now - prev.firstFailureAt,
          openedAt: prev.openedAt,
        });
        incidents.push({
          key,
          check: r.check,
          subject: r.subject,
          machine,
          start: new Date(prev.firstFailureAt).toISOString(),
          end: new Date(now).toISOString(),
        });
      }
      delete next[key];
      continue;
    }
    const entry: AlertEntry = prev
      ? { ...prev, failures: prev.failures + 1 }
      : { failures: 1, firstFailureAt: now, severity: r.severity };
    if (muted(r)) {
      next[key] = entry;
      continue;
    }
    // an expiry or a refused config is not flaky: no need to see it three times
    // a token, the config, a weekly test suite, a GitHub refusal: one finding is enough to alert
    const threshold = [
      'tokens',
      'config',
      'config-trust',
      'tests',
      'github',
      'deps-update',
      'config-drift',
      'mcp-remediation',
      'rollout',
      'rollout-halted',
    ].includes(r.check)
      ? 1
      : policy.failureThreshold;
    if (entry.openedAt === undefined) {
      if (entry.failures >= threshold) {
        entry.openedAt = now;
        entry.lastSentAt = now;
        entry.severity = r.severity;
        events.push({ kind: 'alert', key, result: r, severity: entry.severity, openedAt: now });
      }
    } else {
      // worse than when last told (a token crossing into the last day) is news now, not at the next reminder
      const worse = RANK[r.severity] > RANK[entry.severity];
      const due = now - (entry.lastSentAt ?? entry.openedAt) >= policy.reminderHours * HOUR_MS;
      if (due || worse) {
        const escalate =
          policy.escalateAfterHours !== undefined && now - entry.openedAt >= policy.escalateAfterHours * HOUR_MS;
        entry.severity = worse ? r.severity : escalate ? UP[entry.severity] : entry.severity;
        entry.lastSentAt = now;
        events.push({ kind: 'reminder', key, result: r, severity: entry.severity, openedAt: entry.openedAt });
      }
    }
    next[key] = entry;
  }
  return { state: next, events, incidents };
}
