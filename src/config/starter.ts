/** The file `config init` writes: every known key with its default, and a comment saying what it does. */
export const STARTER_CONFIG = `// roosync-maint configuration — shared by every machine of the fleet.
// Comments are allowed. Check it with: roosync-maint config validate
// Paths may start with ~, use $VAR / %VAR%, <tmp> or <vscode-global-storage>; each machine resolves them for itself.
// This file sets policy. Commands, local paths, token variables and hosts that differ from the defaults below
// take effect only from each machine's own config (~/.config/roosync-maint/machine.jsonc, same keys) or once
// its operator approves them with: roosync-maint config trust   (docs/trust.md)
{
  // .rollback/: folders and *.backup.* files older than this go; names matching excludePatterns never do (at any depth).
  "rollback": { "retentionDays": 7, "excludePatterns": ["CRITICAL_*"] },
  // messages: inbox → archive after archiveAfterDays (read) or archiveUnreadAfterDays (unread), as RooSync does;
  // archive/ and sent/ messages someone read are purged after deleteAfterDays (nobody-read ones never, unless you
  // add "purgeUnreadAfterDays"); attachment folders whose message is gone everywhere go after attachmentsGraceDays.
  "messages": { "archiveAfterDays": 30, "archiveUnreadAfterDays": 90, "deleteAfterDays": 90, "attachmentsGraceDays": 7 },
  // backup families (*.backup* in the shared root, baselines/*.backup.*, configs/<machine>/v*): keep this many newest each.
  "backups": { "keepCount": 5 },
  // .shared-state/logs/: older than retentionDays go, then the oldest until the folder is under maxSizeMB.
  "logs": { "retentionDays": 7, "maxSizeMB": 100 },
  // a safety cap on removals by one rule in one run; the rest waits for the next run.
  "limits": { "maxDeletionsPerRun": 10000 },
  // leader lease: at least 2 × schedule.tickMinutes; renewed when less than half is left. A dead leader is
  // replaced within one lease plus one tick.
  "election": { "leaseSeconds": 7200 },
  // every git call is cut after timeoutSeconds without output; a push that lost the race is retried (fetch,
  // rebase, push) until it lands or pushBudgetSeconds have passed.
  "git": { "timeoutSeconds": 120, "pushBudgetSeconds": 120 },
  // tickMinutes: how often a tick runs; heartbeatMinutes: a status with nothing new is committed at most this
  // often (a machine silent for heartbeatMinutes + 2 ticks + 15 min is flagged).
  "schedule": {
    "tickMinutes": 15,
    "heartbeatMinutes": 240,
    "tasks": { "health": "1d", "disk-check": "7d", "deps-audit": "30d", "messages-archive": "1d" }
  },
  // Roo (and Zoo Code) task checkpoints (only <task>/checkpoints/ is removed, never the task); a task touched
  // recently is kept. A folder missing on a machine is simply nothing to do there.
  "checkpoints": {
    "roots": [
      "<vscode-global-storage>/rooveterinaryinc.roo-cline/tasks",
      "<vscode-global-storage>/zoocodeorganization.zoo-code/tasks"
    ],
    "retentionDays": 14
  },
  // local log folders of this machine.
  "localLogs": { "dirs": ["<tmp>/roo-state-manager-logs"], "retentionDays": 7 },
  // config-backup (daily): each of these files that changed gets a snapshot, whole in this machine's state folder
  // (for backups restore) and redacted in maintenance/configs/<machine>/; keepCount snapshots kept of each.
  // <roosync-env> is RooSync's .env as ROOSYNC_ENV_FILE names it; <shared-state> is the shared state's folder.
  "configBackup": {
    "files": [
      "<vscode-global-storage>/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
      "<vscode-global-storage>/zoocodeorganization.zoo-code/settings/mcp_settings.json",
      "<roosync-env>",
      "<shared-state>/sync-config.json"
    ],
    "keepCount": 5,
    // config-drift (leader, daily) compares the machines' snapshots key path by key path; these differ by design.
    "driftIgnore": [
      "mcpServers.*.cwd",
      "mcpServers.*.watchPaths",
      "mcpServers.*.env.ROOSYNC_MACHINE_ID",
      "ROOSYNC_MACHINE_ID",
      "ROOSYNC_SHARED_PATH",
      "software.powershell"
    ]
  },
  // <file>.backup_<timestamp> siblings of these files: keep the keepCount newest.
  "localBackups": {
    "files": [
      "<vscode-global-storage>/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
      "<vscode-global-storage>/zoocodeorganization.zoo-code/settings/mcp_settings.json"
    ],
    "keepCount": 5
  },
  "health": {
    // Roo's MCP settings; on a machine with only Zoo Code, Zoo's is used instead.
    "mcpSettingsPath": "<vscode-global-storage>/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
    "mcpTimeoutSeconds": 20,
    "mcpRetries": 3,
    // tokens are described by name and expiry only: never put a token value here.
    "tokens": [],
    "diskMinFreeMB": 1024,
    // optionally also a minimum share of the volume, e.g. "diskMinFreePercent": 5
    "depsDirs": []
  },
  "alerts": { "to": "all", "failureThreshold": 3, "reminderHours": 24 },
  "reports": { "to": "all", "digestHours": 24, "language": "fr", "page": true },
  // roosync-maint mcp: agents read status, health, the lease and the plan; allowRun lets them run a tick too
  // (honoured from a machine's own config only).
  "mcp": { "allowRun": false },
  // rollouts (roosync-maint rollout start): a wave waiting this long on a live machine gets a note in the digest;
  // the components a rollout updates are declared in each machine's own config, never here
  "rollouts": { "noteAfterHours": 24 },
  // extra retention rules, relative to the shared state, e.g.
  // { "name": "old-exports", "root": "exports", "match": ["*.zip"], "unit": "file", "olderThanDays": 30 }
  "rules": []
}
`;
