import { DEFAULT_INTERVALS, TASK_GROUPS, TASK_NAMES, TASK_SUMMARIES, TASKS } from '../config/taskCatalogue.js';
import type { CommandSpec, Handler } from './kit.js';

/**
 * Every command's words, usage, options and examples, without its handler: `--help` and the parser read this
 * alone, and only the family of the command being run is loaded (cli/commands/<family>.ts exports its handlers).
 */
const FAMILIES = {
  run: () => import('./commands/run.js'),
  status: () => import('./commands/status.js'),
  leader: () => import('./commands/leader.js'),
  doctor: () => import('./commands/doctor.js'),
  setup: () => import('./commands/setup.js'),
  config: () => import('./commands/config.js'),
  restore: () => import('./commands/restore.js'),
  backups: () => import('./commands/backups.js'),
  mcp: () => import('./commands/mcp.js'),
  rollout: () => import('./commands/rollout.js'),
} satisfies Record<string, () => Promise<{ handlers: Record<string, Handler> }>>;

/** Every family's handlers, loaded now (cli/preload.ts). */
export async function loadEveryFamily(): Promise<void> {
  await Promise.all(Object.values(FAMILIES).map((load) => load()));
}

type Entry = Omit<CommandSpec, 'handler'> & { family: keyof typeof FAMILIES };

/** `run --help`: every task with its scope and default interval, then the groups `--task` accepts. */
function taskHelp(): string[] {
  const width = Math.max(...TASK_NAMES.map((t) => t.length));
  return [
    'Tasks (fleet tasks run on the leader only; "every" is the default interval, schedule.tasks changes it):',
    ...TASK_NAMES.map(
      (t) =>
        `  ${t.padEnd(width)}  ${TASKS[t].padEnd(5)}  every ${DEFAULT_INTERVALS[t].padEnd(3)}  ${TASK_SUMMARIES[t]}`,
    ),
    '',
    'Groups:',
    ...Object.entries(TASK_GROUPS).map(
      ([g, names]) => `  ${g.padEnd(width)}  ${g === 'all' ? 'every task' : names.join(', ')}`,
    ),
  ];
}

const ENTRIES: Entry[] = [
  {
    family: 'run',
    words: ['run'],
    usage: 'run [--task NAME]... [--wait]',
    summary: 'one maintenance tick: the due tasks, or the named tasks/groups now (health, update, cleanup, fleet, all)',
    options: ['task', 'wait', 'list-kept'],
    examples: [
      'roosync-maint run                      # the due tasks (what the schedule runs)',
      'roosync-maint run --task cleanup --dry-run',
      'roosync-maint run --task health --json',
    ],
    details: taskHelp,
  },
  {
    family: 'run',
    words: ['daemon'],
    usage: 'daemon [--stop]',
    summary:
      'long-running coordinator: ticks on its schedule, reloads the config, releases the lease on SIGINT/SIGTERM ' +
      'or daemon --stop',
    options: ['stop'],
    examples: ['roosync-maint daemon', 'roosync-maint daemon --no-sync', 'roosync-maint daemon --stop'],
  },
  {
    family: 'run',
    words: ['demo'],
    usage: 'demo [--keep]',
    summary: 'build a throw-away fleet in a temp dir and run the whole story on it: election, cleanup, health, alerts',
    options: ['keep'],
    examples: ['roosync-maint demo', 'roosync-maint demo --keep'],
  },
  {
    family: 'status',
    words: ['status'],
    usage: 'status',
    summary: 'fleet view: leader, machines, versions, KPIs; exit 1 when the fleet needs attention, the reasons first',
    examples: ['roosync-maint status', 'roosync-maint status --json'],
  },
  {
    family: 'status',
    words: ['report'],
    usage: 'report --out FILE',
    summary: 'write the fleet page: one self-contained HTML file (machines, leader, 30-day trends, recent alerts)',
    options: ['out', 'force'],
    examples: ['roosync-maint report --out fleet.html'],
  },
  {
    family: 'status',
    words: ['health'],
    usage: 'health',
    summary: 'run the health checks now and print them (MCP servers, git, tokens, disk); exit 1 when one fails',
    examples: ['roosync-maint health', 'roosync-maint health --json'],
  },
  {
    family: 'leader',
    words: ['leader', 'status'],
    usage: 'leader status',
    summary: 'show the lease and how this machine judges it',
    examples: ['roosync-maint leader status', 'roosync-maint leader status --no-sync'],
  },
  {
    family: 'leader',
    words: ['leader', 'release'],
    usage: 'leader release',
    summary: 'give up the lease (holder only)',
    options: ['wait'],
    examples: ['roosync-maint leader release', 'roosync-maint leader release --dry-run'],
  },
  {
    family: 'doctor',
    words: ['doctor'],
    usage: 'doctor',
    summary: 'check this machine is set up: shared state, clone, remote, config, writable, schedule, MCP, clock',
    examples: ['roosync-maint doctor', 'roosync-maint doctor --json'],
  },
  {
    family: 'setup',
    words: ['hooks', 'install'],
    usage: 'hooks install',
    summary: 'install the git hooks in the shared-state clone (post-merge, post-rewrite, post-checkout)',
    examples: ['roosync-maint hooks install', 'roosync-maint hooks install --dry-run'],
  },
  {
    family: 'setup',
    words: ['hooks', 'uninstall'],
    usage: 'hooks uninstall',
    summary: 'remove our hooks, restoring any chained hook',
    examples: ['roosync-maint hooks uninstall'],
  },
  {
    family: 'setup',
    words: ['hooks', 'status'],
    usage: 'hooks status',
    summary: 'show which hooks are installed',
    examples: ['roosync-maint hooks status'],
  },
  {
    family: 'setup',
    words: ['schedule', 'install'],
    usage: 'schedule install [--for cron|systemd|windows]',
    summary: "install the OS schedule entry for this machine (idempotent; default: this OS's scheduler)",
    options: ['for'],
    examples: ['roosync-maint schedule install', 'roosync-maint schedule install --for cron --dry-run'],
  },
  {
    family: 'setup',
    words: ['schedule', 'uninstall'],
    usage: 'schedule uninstall [--for …]',
    summary: 'remove the OS schedule entry for this machine',
    options: ['for'],
    examples: ['roosync-maint schedule uninstall --for systemd'],
  },
  {
    family: 'setup',
    words: ['schedule', 'status'],
    usage: 'schedule status [--for …]',
    summary: 'whether the OS schedule entry is installed and up to date',
    options: ['for'],
    examples: ['roosync-maint schedule status'],
  },
  {
    family: 'setup',
    words: ['schedule', 'print'],
    usage: 'schedule print [--for …]',
    summary: 'print the OS scheduler entry for this machine',
    options: ['for'],
    examples: ['roosync-maint schedule print --for systemd'],
  },
  {
    family: 'config',
    words: ['config', 'validate'],
    usage: 'config validate',
    summary: 'check the config; every problem names its JSON path',
    examples: ['roosync-maint config validate', 'roosync-maint config validate --config ./draft.json'],
  },
  {
    family: 'config',
    words: ['config', 'show'],
    usage: 'config show',
    summary: 'print the effective config and where each setting came from',
    examples: ['roosync-maint config show', 'roosync-maint config show --json'],
  },
  {
    family: 'config',
    words: ['config', 'trust'],
    usage: 'config trust [--yes] [--revoke]',
    summary: "approve the fleet config's commands, local paths and hosts on this machine (exactly this content)",
    options: ['yes', 'revoke'],
    examples: ['roosync-maint config trust', 'roosync-maint config trust --yes', 'roosync-maint config trust --revoke'],
  },
  {
    family: 'config',
    words: ['config', 'init'],
    usage: 'config init [--force]',
    summary: 'write a commented starter config',
    options: ['force'],
    examples: ['roosync-maint config init', 'roosync-maint config init --dry-run'],
  },
  {
    family: 'restore',
    words: ['restore'],
    usage: 'restore <message-id | path>',
    operand: { name: '<target>', description: 'a message id (msg-…) or a path relative to the shared state' },
    options: ['wait'],
    examples: ['roosync-maint restore msg-20261101T101500-ab12cd', 'roosync-maint restore .rollback/old-checkpoint'],
    summary: 'bring back what a task removed: a message from its purge bundle or git history, a path from git history',
  },
  {
    family: 'backups',
    words: ['backups', 'list'],
    usage: 'backups list [file]',
    summary: "this machine's config snapshots (config-backup), newest first",
    operand: { name: '[file]', description: 'only the snapshots of this config file' },
    examples: ['roosync-maint backups list', 'roosync-maint backups list ~/.config/Code/User/settings.json'],
  },
  {
    family: 'backups',
    words: ['backups', 'restore'],
    usage: 'backups restore <file> [--at <time>]',
    summary: 'put a config back from its newest snapshot (or the one at --at); the current file is kept aside',
    operand: { name: '<file>', description: 'the config file to put back, as backups list names it' },
    options: ['at'],
    examples: [
      'roosync-maint backups restore mcp_settings.json --dry-run',
      'roosync-maint backups restore mcp_settings.json --at 2026-11-28T09:00Z',
    ],
  },
  {
    family: 'mcp',
    words: ['mcp'],
    usage: 'mcp',
    summary: 'serve maintenance_status, _health, _leader, _plan and _run as MCP tools over stdio (for Roo)',
    examples: ['roosync-maint mcp   (as the "command" of an MCP server entry in mcp_settings.json)'],
  },
  {
    family: 'rollout',
    words: ['rollout', 'start'],
    usage: 'rollout start <component> <ref> [--waves M,M]... [--soak 24h]',
    summary: 'roll a component out to the fleet in waves (the first is the canary), each after the soak time',
    operands: [
      { name: '<component>', description: "a component of this machine's config (components)" },
      { name: '<ref>', description: 'a branch, tag or commit of its checkout' },
    ],
    options: ['waves', 'soak', 'wait'],
    examples: [
      "roosync-maint rollout start roo-extensions v2.3.0 --waves myia-po-2026 --waves myia-po-2023 --waves '*' --soak 24h",
    ],
  },
  {
    family: 'rollout',
    words: ['rollout', 'status'],
    usage: 'rollout status [component]',
    summary: 'each rollout: state, target, waves, each machine at which commit; exit 1 when one is halted',
    operand: { name: '[component]', description: 'only this component' },
    examples: ['roosync-maint rollout status', 'roosync-maint rollout status roo-extensions --json'],
  },
  ...(
    [
      ['halt', 'stop opening waves (machines keep the commit they have)'],
      ['resume', 'go on with a halted rollout (its open wave starts its soak again)'],
      ['abort', 'end a rollout for good (machines keep the commit they have; start another to move them)'],
    ] as const
  ).map(
    ([verb, summary]): Entry => ({
      family: 'rollout',
      words: ['rollout', verb],
      usage: `rollout ${verb} <component>`,
      summary,
      operand: { name: '<component>', description: 'the component' },
      options: ['wait'],
      examples: [`roosync-maint rollout ${verb} roo-extensions`],
    }),
  ),
];

/** The handler of one command, loaded with its family on first use. */
function lazyHandler(e: Entry): Handler {
  const key = e.words.join(' ');
  return async (cli) => {
    const { handlers } = await FAMILIES[e.family]();
    const handler = handlers[key];
    if (!handler) throw new Error(`cli/commands/${e.family}.ts has no handler for "${key}"`);
    return handler(cli);
  };
}

/** Every command, by family, each with its handler loaded on first use. */
export const COMMANDS: CommandSpec[] = ENTRIES.map(({ family, ...spec }) => ({
  ...spec,
  handler: lazyHandler({ family, ...spec }),
}));

/** Which family file holds each command's handler (checked by test/cli.test.ts). */
export const FAMILY_OF: Record<string, string> = Object.fromEntries(ENTRIES.map((e) => [e.words.join(' '), e.family]));
