import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SetupError } from '../errors.js';
import { runCommand } from '../util/command.js';
import { writeFileAtomic } from '../util/fs.js';
import { LOCAL_LOGS, localStateDir } from '../sharedState/localState.js';
import { cronLine, type ScheduleEntryInput, scheduleName, systemdUnits, windowsTask } from './osSchedule.js';
import type { SchedulerKind } from './schedulers.js';

/**
 * Installs, removes and inspects this machine's OS schedule entry, as resticprofile does: a marked block
 * in the user's crontab, two systemd user units, or a Task Scheduler task from a UTF-16 XML file. Each
 * action is idempotent: installing twice leaves one entry, uninstalling what is not there is fine.
 */

export interface ScheduleTarget {
  entry: ScheduleEntryInput;
  /** This machine's local state folder (the Windows XML and the crontab's temp copy live there). */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  dryRun: boolean;
}

export interface ScheduleChange {
  /** What was done (or would be), one line each. */
  done: string[];
  changed: boolean;
}

export interface ScheduleState {
  installed: boolean;
  /** Installed and identical to what `schedule install` would write now. */
  current: boolean;
  where: string;
  detail: string;
  /** Installed but switched off (a disabled systemd timer): why it never fires, and the command that fixes it. */
  disabled?: { why: string; fix: string };
}

const TIMEOUT_MS = 30_000;

/** The scheduler this OS has: Task Scheduler on Windows, systemd where it runs, else cron. */
export function defaultScheduler(): SchedulerKind {
  if (process.platform === 'win32') return 'windows';
  return existsSync('/run/systemd/system') ? 'systemd' : 'cron';
}

/** This machine's entry: its shared state and id, --no-sync on a plain folder, logs in its local state folder. */
export function scheduleTargetFor(o: {
  kind?: SchedulerKind;
  sharedState: string;
  machineId: string;
  tickMinutes: number;
  gitDir: string | undefined;
  bin: string;
  env: NodeJS.ProcessEnv;
  dryRun: boolean;
  /** With --no-sync --leader: the scheduled runs lead (a plain folder has no lease yet). */
  leader?: boolean;
}): ScheduleTarget {
  const stateDir = localStateDir(o.sharedState, o.gitDir, o.env);
  if (!o.dryRun) mkdirSync(stateDir, { recursive: true });
  const entry: ScheduleEntryInput = {
    kind: o.kind ?? defaultScheduler(),
    name: scheduleName(o.sharedState),
    node: process.execPath,
    bin: o.bin,
    sharedState: o.sharedState,
    machineId: o.machineId,
    tickMinutes: o.tickMinutes,
    // this machine's own log, beside its other local state (never a temp folder that grows forever)
    logFile: path.join(stateDir, LOCAL_LOGS.schedule),
    noSync: o.gitDir === undefined,
    leader: o.gitDir === undefined && o.leader === true,
    // shipped beside the hooks: Task Scheduler runs it with wscript.exe, so no console window flashes
    launcher: path.join(path.dirname(path.dirname(path.dirname(o.bin))), 'hooks', 'run-hidden.vbs'),
  };
  return { entry, stateDir, env: o.env, dryRun: o.dryRun };
}

async function tool(t: ScheduleTarget, argv: string[]): Promise<{ ok: boolean; output: string }> {
  // from the home folder: the local state folder may not exist yet (doctor and --dry-run make nothing), and a
  // missing working folder fails the spawn exactly as a missing program does
  const r = await runCommand(argv, { cwd: os.homedir(), timeoutMs: TIMEOUT_MS, env: t.env });
  return { ok: r.exitCode === 0, output: r.output.trim() };
}

async function mustRun(t: ScheduleTarget, argv: string[], fix: string): Promise<void> {
  const r = await tool(t, argv);
  if (!r.ok)
    throw new SetupError({
      where: argv.join(' '),
      message: r.output.split('\n').at(-1) || 'failed',
      hint: fix,
    });
}

// ---- cron: a block between two marker lines, replaced whole ----

const marker = (name: string, end: 'begin' | 'end') => `# ${name} ${end} (roosync-maint schedule install/uninstall)`;

export function withoutCronBlock(table: string, name: string): string {
  const lines = table.split('\n');
  const begin = lines.indexOf(marker(name, 'begin'));
  const end = lines.indexOf(marker(name, 'end'));
  if (begin < 0 || end < begin) return table;
  return [...lines.slice(0, begin), ...lines.slice(end + 1)].join('\n');
}

export function withCronBlock(table: string, entry: ScheduleEntryInput): string {
  const rest = withoutCronBlock(table, entry.name).replace(/\n*$/, '');
  const block = [marker(entry.name, 'begin'), cronLine(entry), marker(entry.name, 'end')].join('\n');
  return `${rest ? `${rest}\n` : ''}${block}\n`;
}

async function readCrontab(t: ScheduleTarget): Promise<string> {
  const r = await tool(t, ['crontab', '-l']);
  if (r.ok) return r.output ? `${r.output}\n` : '';
  if (/no crontab/i.test(r.output)) return '';
  throw new SetupError({
    where: 'crontab -l',
    message: /ENOENT/.test(r.output) ? 'crontab is not installed' : r.output || 'could not read the crontab',
    hint: 'is cron installed (apt install cron)? or use --for systemd',
  });
}

async function writeCrontab(t: ScheduleTarget, table: string): Promise<void> {
  const file = path.join(t.stateDir, 'crontab.new');
  writeFileAtomic(file, table);
  try {
    await mustRun(t, ['crontab', file], `the new table is in ${file}; check it, then: crontab ${file}`);
  } finally {
    rmSync(file, { force: true });
  }
}

async function changeCron(t: ScheduleTarget, remove: boolean): Promise<ScheduleChange> {
  const table = await readCrontab(t);
  const next = remove ? withoutCronBlock(table, t.entry.name) : withCronBlock(table, t.entry);
  if (next === table)
    return { changed: false, done: [remove ? 'no crontab entry to remove' : 'crontab entry up to date'] };
  if (!t.dryRun) await writeCrontab(t, next);
  return {
    changed: true,
    done: [`${remove ? 'removed the' : 'wrote the'} ${t.entry.name} block of the user's crontab`],
  };
}

async function cronState(t: ScheduleTarget): Promise<ScheduleState> {
  const table = await readCrontab(t);
  const installed = withoutCronBlock(table, t.entry.name) !== table;
  const current = installed && withCronBlock(table, t.entry) === table;
  return { installed, current, where: "the user's crontab", detail: installed ? cronLine(t.entry) : '' };
}

// ---- systemd: two user units, enabled ----

function unitDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CONFIG_HOME ?? path.join(env.HOME ?? os.homedir(), '.config'), 'systemd', 'user');
}

function unitFiles(t: ScheduleTarget): { file: string; text: string }[] {
  const { service, timer } = systemdUnits(t.entry);
  const dir = unitDir(t.env);
  return [
    { file: path.join(dir, `${t.entry.name}.service`), text: service },
    { file: path.join(dir, `${t.entry.name}.timer`), text: timer },
  ];
}

const readIfPresent = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

async function changeSystemd(t: ScheduleTarget, remove: boolean): Promise<ScheduleChange> {
  const timer = `${t.entry.name}.timer`;
  const files = unitFiles(t);
  const done: string[] = [];
  if (remove) {
    if (files.every((f) => readIfPresent(f.file) === undefined))
      return { changed: false, done: ['no units to remove'] };
    if (!t.dryRun) {
      await tool(t, ['systemctl', '--user', 'disable', '--now', timer]); // gone already is fine
      for (const f of files) rmSync(f.file, { force: true });
      await tool(t, ['systemctl', '--user', 'daemon-reload']);
    }
    return { changed: true, done: [`disabled ${timer}`, ...files.map((f) => `removed ${f.file}`)] };
  }
  for (const f of files.filter((f) => readIfPresent(f.file) !== f.text)) {
    if (!t.dryRun) {
      mkdirSync(path.dirname(f.file), { recursive: true });
      writeFileAtomic(f.file, f.text);
    }
    done.push(`wrote ${f.file}`);
  }
  const fix = `the units are written; enable them yourself: systemctl --user daemon-reload && systemctl --user enable --now ${timer}`;
  if (!t.dryRun) {
    await mustRun(t, ['systemctl', '--user', 'daemon-reload'], fix);
    await mustRun(t, ['systemctl', '--user', 'enable', '--now', timer], fix);
  }
  done.push(`enabled and started ${timer}`);
  return { changed: done.length > 1, done };
}

async function systemdState(t: ScheduleTarget): Promise<ScheduleState> {
  const files = unitFiles(t);
  const present = files.map((f) => readIfPresent(f.file));
  const installed = present.every((p) => p !== undefined);
  const enabled = installed
    ? (await tool(t, ['systemctl', '--user', 'is-enabled', `${t.entry.name}.timer`])).output
    : '';
  const timer = `${t.entry.name}.timer`;
  const state = enabled.trim();
  return {
    installed,
    current: installed && files.every((f, i) => present[i] === f.text),
    where: unitDir(t.env),
    detail: installed ? `timer ${state || 'state unknown'}` : '',
    // `is-enabled` says enabled (or enabled-runtime, static, …); disabled or masked never fire
    ...(installed &&
      /^(disabled|masked)/.test(state) && {
        disabled: { why: `the timer is ${state}: it never fires`, fix: `systemctl --user enable --now ${timer}` },
      }),
  };
}

// ---- Windows: a task registered from an XML file ----

/** UTF-16LE with a byte order mark: what the XML's declaration says and what Task Scheduler expects. */
export function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

const xmlFile = (t: ScheduleTarget) => path.join(t.stateDir, `${t.entry.name}.xml`);

async function changeWindows(t: ScheduleTarget, remove: boolean): Promise<ScheduleChange> {
  const file = xmlFile(t);
  if (remove) {
    const registered = (await tool(t, ['schtasks', '/Query', '/TN', t.entry.name])).ok;
    if (!registered && !existsSync(file)) return { changed: false, done: ['no scheduled task to remove'] };
    if (!t.dryRun) {
      if (registered)
        await mustRun(t, ['schtasks', '/Delete', '/TN', t.entry.name, '/F'], 'remove it in Task Scheduler');
      rmSync(file, { force: true });
    }
    return { changed: true, done: [`deleted the scheduled task ${t.entry.name}`] };
  }
  const bytes = utf16le(windowsTask(t.entry));
  const same = existsSync(file) && readFileSync(file).equals(bytes);
  if (!t.dryRun) {
    if (!same) writeFileAtomic(file, bytes);
    await mustRun(
      t,
      ['schtasks', '/Create', '/TN', t.entry.name, '/XML', file, '/F'],
      `register it yourself: schtasks /Create /TN "${t.entry.name}" /XML "${file}" /F`,
    );
  }
  return { changed: !same, done: [`wrote ${file} (UTF-16LE)`, `registered the scheduled task ${t.entry.name}`] };
}

async function windowsState(t: ScheduleTarget): Promise<ScheduleState> {
  const file = xmlFile(t);
  const query = await tool(t, ['schtasks', '/Query', '/TN', t.entry.name]);
  const current = existsSync(file) && readFileSync(file).equals(utf16le(windowsTask(t.entry)));
  return { installed: query.ok, current: query.ok && current, where: 'Task Scheduler', detail: file };
}

/** Each scheduler's two operations: change the entry (install, or remove), and read it. */
const SCHEDULER_OPS: Record<
  SchedulerKind,
  {
    change: (t: ScheduleTarget, remove: boolean) => Promise<ScheduleChange>;
    state: (t: ScheduleTarget) => Promise<ScheduleState>;
  }
> = {
  cron: { change: changeCron, state: cronState },
  systemd: { change: changeSystemd, state: systemdState },
  windows: { change: changeWindows, state: windowsState },
};

export function installSchedule(t: ScheduleTarget): Promise<ScheduleChange> {
  return SCHEDULER_OPS[t.entry.kind].change(t, false);
}

export function uninstallSchedule(t: ScheduleTarget): Promise<ScheduleChange> {
  return SCHEDULER_OPS[t.entry.kind].change(t, true);
}

export function scheduleState(t: ScheduleTarget): Promise<ScheduleState> {
  return SCHEDULER_OPS[t.entry.kind].state(t);
}
