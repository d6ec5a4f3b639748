export {
  MaintenanceService,
  type MaintenanceServiceOptions,
  type MaintenanceReport,
  type CleanupResult,
  type ArchiveResult,
  type RotationResult,
  type PruneResult,
} from './service.js';
export { planRetention, type Entry, type Action, type RulePlan } from './retention/plan.js';
export { describeRule, type RetentionRule } from './retention/rule.js';
export { parseMessage, serializeMessage, newMessageId, dateFromId, type RooSyncMessage } from './roosync/message.js';
export { sendMessage, type Outgoing } from './roosync/send.js';
export { judgeLease, Elector, type LeaseStore, type Judgement } from './election/elector.js';
export { configSchema, type MaintenanceConfig } from './config/schema.js';
