import { shellQuote } from '../util/shell.js';
import { pathKey } from '../util/paths.js';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { phaseOffsetMs } from '../coordinator/phase.js';

import type { SchedulerKind } from './schedulers.js';

export type { SchedulerKind } from './schedulers.js';

export interface ScheduleEntryInput {
  kind: SchedulerKind;
  /** The entry's name: the systemd units' and the Windows task's, the cron block's marker. */
  name: string;
  node: string;
  bin: string;
  sharedState: string;
  machineId: string;
  tickMinutes: number;
  /** Where the scheduled runs append their stderr (pino JSON logs, warn and above). */
  logFile: string;
  /** A plain folder (no git clone): the runs use --no-sync, or every tick would exit 2. */
  noSync: boolean;
  /** A plain folder's leader (`schedule install --no-sync --leader`): the runs pass --leader too. */
  leader?: boolean;
  /**
   * Windows: the hidden-window launcher (`hooks/run-hidden.vbs`, run by wscript.exe, which has no console), so no
   * console window flashes at every tick, and the run's stderr goes to `logFile`. Without it, node.exe directly.
   */
  launcher?: string;
}

/** The arguments of a scheduled run: a plain folder's runs never try to sync; logs at warn. */
function runArgs(i: ScheduleEntryInput): string[] {
  return [
    'run',
    ...(i.noSync ? ['--no-sync'] : []),
    ...(i.noSync && i.leader ? ['--leader'] : []),
    '--log-level',
    'warn',
  ];
}

/** One entry per shared state on a machine: `roosync-maint-` and a short hash of its path. */
export function scheduleName(sharedState: string): string {
  return `roosync-maint-${createHash('sha256')
    .update(pathKey(path.resolve(sharedState)))
    .digest('hex')
    .slice(0, 8)}`;
}

/** This machine's offset within one tick interval, split for schedulers that count minutes and seconds. */
function phaseOf(i: ScheduleEntryInput): { minute: number; second: number; totalSeconds: number } {
  const totalSeconds = Math.floor(phaseOffsetMs(i.machineId, i.tickMinutes * 60_000) / 1000);
  return { minute: Math.floor(totalSeconds / 60) % 60, second: totalSeconds % 60, totalSeconds };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * What a scheduler line can carry. A newline (or CR, NUL) would end the entry and start another, which
 * nothing can quote: refused. Everything else is quoted for the scheduler that reads it (cron's `%`, systemd's
 * `%`, `$`, spaces and quotes).
 */
function carriable(i: ScheduleEntryInput): void {
  const fields = { 'shared state': i.sharedState, node: i.node, 'roosync-maint': i.bin, 'log file': i.logFile };
  for (const [what, value] of Object.entries(fields))
    if (/[\r\n\0]/.test(value))
      throw new UsageError({
        where: value.replace(/[\r\n\0]/g, '⏎'),
        message: `the ${what} path holds a line break, which no scheduler entry can carry`,
        hint: 'rename the folder, or run roosync-maint from the daemon instead',
      });
}

/** A shell word for a crontab line: quoted for the shell, and `%` escaped for cron (which reads it as a newline). */
const q = (s: string) => shellQuote(s).replace(/%/g, '\\%');

/** A systemd unit word: double-quoted, with `%` (specifiers) and `$` (variables) escaped. */
const sd = (s: string) =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function cronLine(i: ScheduleEntryInput): string {
  carriable(i);
  const m = i.tickMinutes;
  const { minute, second, totalSeconds } = phaseOf(i);
  const hour = Math.floor(totalSeconds / 3600);
  const when =
    m < 60 && 60 % m === 0
      ? `${minute}-59/${m} * * * *`
      : m % 60 === 0 && 1440 % m === 0
        ? `${minute} ${hour}-23/${m / 60} * * *`
        : undefined;
  if (!when)
    throw new UsageError({
      where: 'schedule.tickMinutes',
      message: `cron cannot run every ${m} minutes`,
      hint: 'use a divisor of 60 (5, 10, 15, 20, 30) or whole hours dividing 24, or a systemd timer',
    });
  return (
    `${when} sleep ${second}; ROOSYNC_SHARED_PATH=${q(i.sharedState)} ROOSYNC_MACHINE_ID=${q(i.machineId)} ${q(i.node)} ` +
    `${q(i.bin)} ${runArgs(i).join(' ')} >/dev/null 2>>${q(i.logFile)}`
  );
}

/** A calendar spec on this machine's phase where the interval allows one, else a monotonic timer offset by it. */
function systemdTimer(i: ScheduleEntryInput): string[] {
  const m = i.tickMinutes;
  const { minute, second, totalSeconds } = phaseOf(i);
  const onPhase = `(this machine's offset in the interval: ${totalSeconds} s, from a hash of its id)`;
  if (m < 60 && 60 % m === 0)
    return [
      `# every ${m} min ${onPhase}`,
      `OnCalendar=*-*-* *:${pad(minute % m)}/${m}:${pad(second)}`,
      'AccuracySec=1s',
    ];
  if (m % 60 === 0 && 1440 % m === 0) {
    const hour = Math.floor(totalSeconds / 3600);
    return [
      `# every ${m / 60} h ${onPhase}`,
      `OnCalendar=*-*-* ${pad(hour)}/${m / 60}:${pad(minute)}:${pad(second)}`,
      'AccuracySec=1s',
    ];
  }
  return [`# ${onPhase}`, `OnBootSec=${totalSeconds + 120}s`, `OnUnitActiveSec=${m}min`, 'AccuracySec=1s'];
}

/** The two user units, `<name>.service` and `<name>.timer`, each as its own file's text. */
export function systemdUnits(i: ScheduleEntryInput): { service: string; timer: string } {
  carriable(i);
  if (/\s/.test(i.logFile))
    throw new UsageError({
      where: i.logFile,
      message: "the log file's path holds a space, which systemd's StandardError=append: cannot carry",
      hint: 'set XDG_STATE_HOME to a folder without spaces, or use cron',
    });
  const service = [
    '[Unit]',
    'Description=roosync-maint tick (RooSync shared-state maintenance)',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `Environment=${sd(`ROOSYNC_SHARED_PATH=${i.sharedState}`)}`,
    `Environment=${sd(`ROOSYNC_MACHINE_ID=${i.machineId}`)}`,
    `ExecStart=${sd(i.node)} ${sd(i.bin)} ${runArgs(i).join(' ')}`,
    `StandardError=append:${i.logFile.replace(/%/g, '%%')}`,
    'TimeoutStartSec=30min',
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    'Description=roosync-maint every tick interval',
    '',
    '[Timer]',
    ...systemdTimer(i),
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}

/** The same task without XML: one `schtasks` line (its options contain "--", so never inside the XML's comment). */
export function windowsCommandLine(i: ScheduleEntryInput): string {
  return (
    `schtasks /Create /TN "${i.name}" /SC MINUTE /MO ${i.tickMinutes} /TR "\\"${i.node}\\" ` +
    `\\"${i.bin}\\" ${runArgs(i).join(' ')} --shared-state \\"${i.sharedState}\\" --machine ${i.machineId}"`
  );
}

/** The Task Scheduler XML (to be saved as UTF-16LE with a BOM, as its declaration says). */
export function windowsTask(i: ScheduleEntryInput): string {
  const win = path.win32;
  const { totalSeconds } = phaseOf(i);
  const start = `2026-01-01T${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}`;
  const run = `${runArgs(i).join(' ')} --shared-state "${i.sharedState}" --machine ${i.machineId}`;
  // through the launcher: wscript.exe (no console) → cmd.exe hidden → node, stderr appended to the log file
  const [command, args] = i.launcher
    ? [
        '%SystemRoot%\\System32\\wscript.exe',
        `//B //Nologo "${i.launcher}" "${i.logFile}" "${i.node}" "${i.bin}" ${run}`,
      ]
    : [i.node, `"${i.bin}" ${run}`];
  return [
    // the declaration must come first: Task Scheduler rejects anything before it
    '<?xml version="1.0" encoding="UTF-16"?>',
    // a comment may not hold "--" (XML 1.0 §2.5): Task Scheduler and xmllint refuse the file; the line without XML
    // is printed beside it by `schedule print` (windowsCommandLine)
    `<!-- register it: schtasks /Create /TN "${i.name}" /XML ${i.name}.xml (this file saved as UTF-16) -->`,
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo><Description>roosync-maint tick (RooSync shared-state maintenance)</Description></RegistrationInfo>',
    '  <Triggers>',
    '    <TimeTrigger>',
    `      <Repetition><Interval>PT${i.tickMinutes}M</Interval><StopAtDurationEnd>false</StopAtDurationEnd></Repetition>`,
    `      <StartBoundary>${start}</StartBoundary>`,
    '      <Enabled>true</Enabled>',
    '    </TimeTrigger>',
    '  </Triggers>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <ExecutionTimeLimit>PT30M</ExecutionTimeLimit>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${xml(command)}</Command>`,
    `      <Arguments>${xml(args)}</Arguments>`,
    `      <WorkingDirectory>${xml(win.dirname(i.sharedState))}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\n');
}

/** A ready scheduler entry that runs one tick with this machine's shared state and id. */
export function scheduleEntry(i: ScheduleEntryInput): string {
  if (i.kind === 'cron') return cronLine(i);
  if (i.kind === 'systemd') {
    const { service, timer } = systemdUnits(i);
    return [
      `# ~/.config/systemd/user/${i.name}.service`,
      service,
      `# ~/.config/systemd/user/${i.name}.timer`,
      timer,
    ].join('\n');
  }
  return windowsTask(i);
}
