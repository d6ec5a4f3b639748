import { MINUTE_MS } from '../util/time.js';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { MaintenanceConfig } from '../config/schema.js';
import { readState, writeState } from '../sharedState/localState.js';
import { ensureRealDir, writeFileAtomic } from '../util/fs.js';
import { maintenanceSender, sendMessage, type Outgoing } from '../roosync/send.js';
import { messageDirs } from '../roosync/layout.js';
import { alertMessage } from './alertMessage.js';
import type { CheckResult } from '../health/types.js';
import { formatDuration } from '../util/format.js';
import { evaluateAlerts, type AlertEvent } from './engine.js';
import { incidentsFileRel, readIncidents } from './incidents.js';

const stateSchema = z.record(
  z.string(),
  z.object({
    failures: z.number(),
    firstFailureAt: z.number(),
    openedAt: z.number().optional(),
    lastSentAt: z.number().optional(),
    severity: z.enum(['HIGH', 'MEDIUM', 'LOW']),
  }),
);
const HISTORY_LIMIT = 500;

function messageFor(machineId: string, to: string, e: AlertEvent, now: number): Outgoing {
  const r = e.result;
  if (e.kind === 'resolved') {
    return {
      from: maintenanceSender(machineId),
      to,
      subject: `[RESOLVED] ${machineId}: ${r.check} ${r.subject} — back after ${formatDuration(e.downtimeMs!)}`,
      body: [
        `## Resolved - ${machineId.toUpperCase()}`,
        '',
        `**Type:** ${r.type}`,
        `**Durée de l'incident:** ${formatDuration(e.downtimeMs!)}`,
        '',
        r.summary,
        '',
        '```json',
        JSON.stringify(
          {
            machine: machineId,
            check: r.check,
            subject: r.subject,
            downtimeMinutes: Math.round(e.downtimeMs! / MINUTE_MS),
            resolvedAt: new Date(now).toISOString(),
          },
          null,
          2,
        ),
        '```',
      ].join('\n'),
      priority: 'LOW',
      tags: ['maintenance', 'alert', 'resolved'],
    };
  }
  const msg = alertMessage({
    machineId,
    to,
    type: r.type,
    severity: e.severity,
    what: r.summary,
    description:
      e.kind === 'reminder'
        ? `Still failing (open for ${formatDuration(now - (e.openedAt ?? now))}).\n\n${r.summary}`
        : r.summary,
    actions: r.actions,
    data: { check: r.check, subject: r.subject, ...r.data },
  });
  return {
    ...msg,
    ...(r.priority && { priority: r.priority }),
    ...(e.kind === 'reminder' && { subject: `${msg.subject} (reminder)` }),
  };
}

/**
 * Turns this tick's health findings into RooSync messages (alerts, reminders, resolutions)
 * and appends closed incidents to this machine's bounded history. Returns the files written,
 * for the tick's commit; offline, they wait in local commits and go with the next push.
 */
export function deliverAlerts(
  o: { sharedState: string; machineId: string; config: MaintenanceConfig; now: number; stateDir: string; log: Logger },
  checks: readonly CheckResult[],
): { paths: string[]; notes: string[] } {
  if (checks.length === 0) return { paths: [], notes: [] };
  const file = path.join(o.stateDir, 'alerts.json');
  const { state, events, incidents } = evaluateAlerts(
    o.machineId,
    checks,
    readState(file, stateSchema, o.log) ?? {},
    o.now,
    {
      failureThreshold: o.config.alerts.failureThreshold,
      reminderHours: o.config.alerts.reminderHours,
      escalateAfterHours: 24,
    },
  );
  const paths: string[] = [];
  const notes: string[] = [];
  for (const e of events) {
    const sent = sendMessage(messageDirs(o.sharedState), messageFor(o.machineId, o.config.alerts.to, e, o.now), o.now);
    paths.push(`messages/inbox/${sent.id}.json`, `messages/sent/${sent.id}.json`);
    notes.push(`${e.kind}: ${sent.subject}`);
  }
  if (incidents.length > 0) {
    const rel = incidentsFileRel(o.machineId);
    const all = [...readIncidents(o.sharedState, o.machineId), ...incidents].slice(-HISTORY_LIMIT);
    ensureRealDir(o.sharedState, path.dirname(path.join(o.sharedState, rel)));
    writeFileAtomic(path.join(o.sharedState, rel), `${JSON.stringify(all, null, 2)}\n`);
    paths.push(rel);
  }
  writeState(file, state);
  return { paths, notes };
}
