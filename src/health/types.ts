export type AlertType = 'HEALTH' | 'SECURITY' | 'DISK' | 'BUILD';
export type Severity = 'HIGH' | 'MEDIUM' | 'LOW';
import type { Priority } from '../roosync/message.js';

export type CheckName =
  | 'mcp'
  | 'git'
  | 'tokens'
  | 'disk'
  | 'deps'
  | 'fleet-liveness'
  | 'config'
  | 'config-trust'
  | 'tests'
  | 'github'
  | 'deps-update'
  | 'deps-outdated'
  | 'config-drift'
  | 'mcp-remediation'
  | 'shared-state'
  | 'rollout'
  | 'rollout-halted';

/** One health finding about one subject (a server, a token, a volume, a machine). */
export interface CheckResult {
  check: CheckName;
  subject: string;
  /** `skipped`: the check could not run (registry offline, nothing configured): neither up nor down. */
  state: 'ok' | 'failing' | 'skipped';
  type: AlertType;
  severity: Severity;
  /** Overrides the priority the severity implies (an expired token is URGENT). */
  priority?: Priority;
  summary: string;
  actions: string[];
  data: Record<string, unknown>;
  /** Alerts for failures on this machine of these (check, subject-prefix) are muted while this one fails. */
  inhibits?: { check: CheckName; subjectPrefix?: string };
}
