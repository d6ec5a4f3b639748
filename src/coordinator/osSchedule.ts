import { shellQuote } from '../util/shell.js';
import path from 'node:path';
import { UsageError } from '../errors.js';

export type SchedulerKind = 'windows' | 'systemd' | 'cron';

export interface ScheduleEntryInput {
  kind: SchedulerKind;
  node: string;
  bin: string;
  sharedState: string;
  machineId: string;
  tickMinutes: number;
  /** Where the scheduled runs append their stderr (pino JSON logs). */
  logFile: string;
}

const q = shellQuote;
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function cronLine(i: ScheduleEntryInput): string {
  const m = i.tickMinutes;
  const when =
    m < 60 && 60 % m === 0 ? `*/${m} * * * *` : m % 60 === 0 && 1440 % m === 0 ? `0 */${m / 60} * * *` : undefined;
  if (!when)
    throw new UsageError({
      where: 'schedule.tickMinutes',
      message: `cron cannot run every ${m} minutes`,
      hint: 'use a divisor of 60 (5, 10, 15, 20, 30) or whole hours dividing 24, or a systemd timer',
    });
  return (
    `${when} ROOSYNC_SHARED_PATH=${q(i.sharedState)} ROOSYNC_MACHINE_ID=${q(i.machineId)} ${q(i.node)} ` +
    `${q(i.bin)} run >/dev/null 2>>${q(i.logFile)}`
  );
}

function systemdUnits(i: ScheduleEntryInput): string {
  return [
    '# ~/.config/systemd/user/roosync-maint.service',
    '[Unit]',
    'Description=roosync-maint tick (RooSync shared-state maintenance)',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `Environment=ROOSYNC_SHARED_PATH=${i.sharedState}`,
    `Environment=ROOSYNC_MACHINE_ID=${i.machineId}`,
    `ExecStart=${i.node} ${i.bin} run`,
    'TimeoutStartSec=30min',
    '',
    '# ~/.config/systemd/user/roosync-maint.timer',
    '[Unit]',
    'Description=roosync-maint every tick interval',
    '',
    '[Timer]',
    'OnBootSec=2min',
    `OnUnitActiveSec=${i.tickMinutes}min`,
    'RandomizedDelaySec=60',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
  ].join('\n');
}

function windowsTask(i: ScheduleEntryInput): string {
  const win = path.win32;
  const args = `"${i.bin}" run`;
  return [
    `<!-- schtasks /Create /TN "roosync-maint" /XML roosync-maint.xml   (or, without XML:)`,
    `     schtasks /Create /TN "roosync-maint" /SC MINUTE /MO ${i.tickMinutes} /TR "\\"${i.node}\\" ` +
      `\\"${i.bin}\\" run --shared-state \\"${i.sharedState}\\" --machine ${i.machineId}" -->`,
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo><Description>roosync-maint tick (RooSync shared-state maintenance)</Description></RegistrationInfo>',
    '  <Triggers>',
    '    <TimeTrigger>',
    `      <Repetition><Interval>PT${i.tickMinutes}M</Interval><StopAtDurationEnd>false</StopAtDurationEnd></Repetition>`,
    '      <StartBoundary>2026-01-01T00:00:00</StartBoundary>',
    '      <Enabled>true</Enabled>',
    '      <RandomDelay>PT1M</RandomDelay>',
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
    `      <Command>${xml(i.node)}</Command>`,
    `      <Arguments>${xml(`${args} --shared-state "${i.sharedState}" --machine ${i.machineId}`)}</Arguments>`,
    `      <WorkingDirectory>${xml(win.dirname(i.sharedState))}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
  ].join('\n');
}

/** A ready scheduler entry that runs one tick with this machine's shared state and id. */
export function scheduleEntry(i: ScheduleEntryInput): string {
  if (i.kind === 'cron') return cronLine(i);
  if (i.kind === 'systemd') return systemdUnits(i);
  return windowsTask(i);
}
