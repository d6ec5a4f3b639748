import { z } from 'zod';
import { DURATION_PATTERN } from './durations.js';
import { PLAN_SCHEDULE, TASK_NAMES } from './taskCatalogue.js';

const days = (dflt: number) =>
  z
    .number({ error: 'expected a number of days' })
    .int({ error: 'expected a whole number of days' })
    .min(1, { error: 'expected a number ≥ 1' })
    .default(dflt);
const count = (dflt: number) =>
  z
    .number({ error: 'expected a count' })
    .int({ error: 'expected a whole number' })
    .min(1, { error: 'expected a number ≥ 1' })
    .default(dflt);
const pathList = (dflt: string[]) => z.array(z.string().min(1, { error: 'expected a non-empty path' })).default(dflt);
const duration = z.string().regex(DURATION_PATTERN, { error: 'expected a duration like 15m, 6h or 30d' });
const glob = z.string().min(1, { error: 'expected a non-empty glob' });
/** A command from the config: a command line (the platform's shell runs it) or an argv list (no shell). */
const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line, or an argv list such as ["npm", "test"]',
});
/** VS Code's storage folders of Roo Code and of its successor Zoo Code: RooSync machines have one or both. */
export const ROO_STORAGE = '<vscode-global-storage>/rooveterinaryinc.roo-cline';
export const ZOO_STORAGE = '<vscode-global-storage>/zoocodeorganization.zoo-code';
export const MCP_SETTINGS = 'settings/mcp_settings.json';
const section = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape).prefault({} as never);

/** A retention rule in the engine's own form (the `rules` section): everything about it in one place. */
export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a lowercase name such as old-exports' }),
  root: z.string().min(1, { error: 'expected a folder relative to the shared state' }),
  match: z.array(glob).min(1, { error: 'expected at least one glob' }),
  unit: z.enum(['file', 'dir', 'any']).default('any'),
  olderThanDays: z.number().int().min(1, { error: 'expected a number ≥ 1' }).optional(),
  keepNewest: z.number().int().min(1, { error: 'expected a number ≥ 1' }).optional(),
  groupBy: z.enum(['family', 'parent', 'none']).default('family'),
  exclude: z.array(glob).default([]),
  maxTotalMB: z.number().positive({ error: 'expected a size in MB > 0' }).optional(),
  maxDeletionsPerRun: z.number().int().min(1, { error: 'expected a number ≥ 1' }).optional(),
  dateFrom: z.enum(['name-or-mtime', 'mtime']).default('name-or-mtime'),
});
export type RuleConfig = z.output<typeof ruleSchema>;

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    rollback: section({
      retentionDays: days(7),
      excludePatterns: z.array(glob).default(['CRITICAL_*']),
    }),
    messages: section({
      archiveAfterDays: days(30),
      archiveUnreadAfterDays: days(90),
      deleteAfterDays: days(90),
      /** No default: a message nobody read is never purged unless the operator says after how long. */
      purgeUnreadAfterDays: z.number().int().min(1, { error: 'expected a number ≥ 1' }).optional(),
      attachmentsGraceDays: days(7),
    }),
    backups: section({ keepCount: count(5) }),
    logs: section({
      retentionDays: days(7),
      maxSizeMB: z
        .number({ error: 'expected a size in MB' })
        .positive({ error: 'expected a size in MB > 0' })
        .default(100),
    }),
    limits: section({ maxDeletionsPerRun: count(10_000) }),
    election: section({
      leaseSeconds: z.number().int().min(60, { error: 'expected at least 60 seconds' }).default(7200),
      /**
       * Plain folder: how long a claim must stand before it leads; longer than the folder's sync lag (Drive: ~2 min).
       * A claim is read back at the first tick this long after it (with 1-minute ticks, the third).
       */
      settleSeconds: z.number().int().min(0).max(86_400).default(120),
    }),
    git: section({
      timeoutSeconds: z.number().int().min(5, { error: 'expected at least 5 seconds' }).max(3600).default(120),
      /** How long a tick keeps trying to land its push while other machines are landing theirs. */
      pushBudgetSeconds: z.number().int().min(1).max(3600).default(120),
      /** Optional cap on push attempts within the budget (older configs set 6; no cap by default). */
      pushAttempts: z.number().int().min(1).max(1000).optional(),
    }),
    schedule: section({
      tickMinutes: count(15),
      /** A status file with nothing new is committed at most this often: the fleet's heartbeat. */
      heartbeatMinutes: count(240),
      tasks: z.partialRecord(z.enum(TASK_NAMES), duration).default(PLAN_SCHEDULE),
    }),
    checkpoints: section({
      roots: pathList([`${ROO_STORAGE}/tasks`, `${ZOO_STORAGE}/tasks`]),
      retentionDays: days(14),
    }),
    localLogs: section({ dirs: pathList(['<tmp>/roo-state-manager-logs']), retentionDays: days(7) }),
    configBackup: section({
      files: pathList([
        `${ROO_STORAGE}/${MCP_SETTINGS}`,
        `${ZOO_STORAGE}/${MCP_SETTINGS}`,
        '<roosync-env>',
        '<shared-state>/sync-config.json',
      ]),
      keepCount: count(5),
      /** Key paths meant to differ between machines (`*` = any one segment); config-drift leaves them out. */
      driftIgnore: z
        .array(z.string().min(1))
        .default([
          'mcpServers.*.cwd',
          'mcpServers.*.watchPaths',
          'mcpServers.*.env.ROOSYNC_MACHINE_ID',
          'ROOSYNC_MACHINE_ID',
          'ROOSYNC_SHARED_PATH',
          'software.powershell',
        ]),
    }),
    localBackups: section({
      files: pathList([`${ROO_STORAGE}/${MCP_SETTINGS}`, `${ZOO_STORAGE}/${MCP_SETTINGS}`]),
      keepCount: count(5),
    }),
    health: section({
      mcpSettingsPath: z
        .string()
        .min(1)
        // Roo's; where only Zoo's exists, Zoo's (config/load.ts)
        .default(`${ROO_STORAGE}/${MCP_SETTINGS}`),
      mcpTimeoutSeconds: z.number().int().min(1).max(600).default(20),
      mcpRetries: z.number().int().min(0).max(10).default(3),
      /** Bringing a down MCP server back: per server its folder, build and restart commands; bounded attempts. */
      remediation: section({
        servers: z
          .record(
            z.string(),
            z.strictObject({
              cwd: z.string().min(1, { error: "expected the server's project folder" }),
              build: command.optional(),
              restart: command.optional(),
            }),
          )
          .default({}),
        maxAttempts: count(3),
        windowHours: count(24),
      }),
      /** Per server: a harmless tool call made after tools/list; an error or a timeout is a failure. */
      mcpProbeCalls: z
        .record(
          z.string(),
          z.strictObject({
            tool: z.string().min(1, { error: 'expected a tool name' }),
            arguments: z.record(z.string(), z.unknown()).default({}),
          }),
        )
        .default({}),
      tokens: z
        .array(
          z
            .strictObject({
              name: z.string().min(1),
              expiresAt: z.iso
                .date({ error: 'expected a date YYYY-MM-DD' })
                .or(z.iso.datetime({ error: 'expected a date YYYY-MM-DD or an ISO time' }))
                .optional(),
              usedBy: z.string().optional(),
              /** Where this machine holds the token's value (a variable's name; never the value). */
              env: z
                .string()
                .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' })
                .optional(),
              probe: z
                .strictObject({
                  kind: z.literal('github', { error: 'expected "github"' }),
                  apiUrl: z.url({ error: 'expected a URL' }).default('https://api.github.com'),
                })
                .optional(),
            })
            .refine((t) => t.expiresAt !== undefined || t.probe !== undefined, {
              error: 'expected expiresAt, or a probe that asks the service (with env naming where the token is)',
            })
            .refine((t) => t.probe === undefined || t.env !== undefined, {
              error: 'a probe needs env: the name of the variable holding the token on each machine',
              path: ['env'],
            }),
        )
        .default([]),
      diskMinFreeMB: z.number().int().min(0).default(1024),
      /** RooSync's listener and worker heartbeats older than this are reported as stale (RooSync's own rule: 2 h). */
      roosyncHeartbeatStaleHours: z.number().positive().max(720).default(2),
      diskMinFreePercent: z.number().min(0).max(100).optional(),
      depsDirs: pathList([]),
    }),
    alerts: section({ to: z.string().min(1).default('all'), failureThreshold: count(3), reminderHours: count(24) }),
    reports: section({
      to: z.string().min(1).default('all'),
      digestHours: count(24),
      /** The digests' language, one per message: French (RooSync's own headings) or English. */
      language: z.enum(['fr', 'en'], { error: 'expected "fr" or "en"' }).default('fr'),
      /** The fleet page the leader writes with its digest (`maintenance/fleet.html`): off with false. */
      page: z.boolean().default(true),
    }),
    deps: section({
      /** `npm update` within this range after reporting what is outdated; off unless asked for. */
      update: z.enum(['off', 'patch', 'minor'], { error: 'expected "off", "patch" or "minor"' }).default('off'),
      buildCommand: command.optional(),
      testCommand: command.optional(),
      timeoutMinutes: z.number().positive().max(1440).default(30),
    }),
    tests: section({
      suites: z
        .array(
          z.strictObject({
            name: z.string().min(1, { error: 'expected a suite name' }),
            cwd: z.string().min(1, { error: 'expected the folder to run the suite in' }),
            command,
            timeoutMinutes: z.number().positive().max(1440).default(30),
            github: z
              .strictObject({
                repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: 'expected owner/name' }),
                tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
                  error: 'expected the name of the environment variable holding the token (never the token)',
                }),
                apiUrl: z
                  .url({ error: 'expected a URL such as https://api.github.com' })
                  .default('https://api.github.com'),
                labels: z.array(z.string().min(1)).default([]),
              })
              .optional(),
          }),
        )
        .default([]),
    }),
    /** `roosync-maint mcp`: agents may read everything; running a tick is theirs only when this says so. */
    mcp: section({ allowRun: z.boolean({ error: 'expected true or false' }).default(false) }),
    /** Machine config only (config/layers.ts): where this machine may send a token besides api.github.com. */
    trust: section({
      tokenHosts: z
        .array(
          z.string().regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d+)?$/, {
            error: 'expected a host such as ghe.example.com (https), or http://127.0.0.1:8080 for a local stand-in',
          }),
        )
        .default([]),
    }),
    rules: z.array(ruleSchema).default([]),
    /**
     * This machine's components a rollout may update (machine config only: a rollout runs their commands): a git
     * checkout, the command that builds it and the one that verifies it, each run in the checkout with the deadline.
     */
    components: z
      .record(
        z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected a component name ([A-Za-z0-9._-])' }),
        z.strictObject({
          dir: z.string().min(1, { error: 'expected the checkout folder' }),
          build: command.optional(),
          verify: command.optional(),
          timeoutMinutes: z.number().positive().max(1440).default(30),
        }),
      )
      .default({}),
    /** Rollouts (policy, from the fleet config): a wave waiting on a live machine this long gets a note. */
    rollouts: section({ noteAfterHours: count(24) }),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.messages.deleteAfterDays < cfg.messages.archiveAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['messages', 'deleteAfterDays'],
        message:
          `expected at least messages.archiveAfterDays (${cfg.messages.archiveAfterDays}): a message ` +
          `is purged only after it was archived`,
      });
    }
    const purgeUnread = cfg.messages.purgeUnreadAfterDays;
    if (purgeUnread !== undefined && purgeUnread < cfg.messages.archiveUnreadAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['messages', 'purgeUnreadAfterDays'],
        message:
          `expected at least messages.archiveUnreadAfterDays (${cfg.messages.archiveUnreadAfterDays}): ` +
          `an unread message is purged only after it was archived`,
      });
    }
    const minLease = 2 * cfg.schedule.tickMinutes * 60;
    if (cfg.election.leaseSeconds < minLease) {
      ctx.addIssue({
        code: 'custom',
        path: ['election', 'leaseSeconds'],
        message: `expected at least 2 × schedule.tickMinutes = ${minLease} s, so that one late tick does not lose the lease`,
      });
    }
    if (cfg.schedule.heartbeatMinutes < cfg.schedule.tickMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'heartbeatMinutes'],
        message: `expected at least schedule.tickMinutes (${cfg.schedule.tickMinutes}): a heartbeat is sent by a tick`,
      });
    }
    const names = new Set<string>();
    cfg.rules.forEach((rule, i) => {
      if (names.has(rule.name))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"` });
      names.add(rule.name);
      if (rule.olderThanDays === undefined && rule.keepNewest === undefined && rule.maxTotalMB === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i],
          message: 'a rule needs olderThanDays, keepNewest or maxTotalMB (an empty policy would keep everything)',
        });
      }
    });
  });

export type MaintenanceConfig = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
