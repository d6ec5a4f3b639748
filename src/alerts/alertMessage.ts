import { MESSAGE_ID, maintenanceSender, type Outgoing } from '../roosync/send.js';

import type { AlertType, Severity } from '../health/types.js';

/** The original plan's alert template (docs/design.md, "Reports"), with the structured data in a fenced json block. */
export function alertMessage(o: {
  machineId: string;
  to: string;
  type: AlertType;
  severity: Severity;
  what: string;
  description: string;
  actions: string[];
  data: Record<string, unknown>;
}): Outgoing {
  const body = [
    `## Alert Maintenance - ${o.machineId.toUpperCase()}`,
    '',
    `**Type:** ${o.type}`,
    `**Sévérité:** ${o.severity}`,
    '',
    '**Description:**',
    o.description,
    '',
    '**Action Requise:**',
    ...o.actions.map((a) => `- [ ] ${a}`),
    // the RooSync call that closes the loop, with RooSync's current tool and parameter names
    `- [ ] Once handled, mark this alert read: \`roosync_messages\` with ` +
      `\`{"action": "mark_read", "message_id": "${MESSAGE_ID}"}\``,
    '',
    '```json',
    JSON.stringify({ machine: o.machineId, type: o.type, severity: o.severity, ...o.data }, null, 2),
    '```',
  ].join('\n');
  return {
    from: maintenanceSender(o.machineId),
    to: o.to,
    subject: `[ALERT][${o.severity}] ${o.machineId}: ${o.what}`,
    body,
    priority: o.severity === 'HIGH' ? 'URGENT' : o.severity === 'MEDIUM' ? 'HIGH' : 'MEDIUM',
    tags: ['maintenance', 'alert'],
  };
}
