import { applyRestore, findFamily, listFamilies, planRestore, type Family } from '../../configBackup/store.js';
import { UsageError } from '../../errors.js';
import { configBackupDir } from '../../tasks/configBackupTask.js';
import { formatBytes, formatDate, plural } from '../../util/format.js';
import { load, type CliEnv, type Handler, type Outcome } from '../kit.js';

/** This machine's config snapshots (the whole copies `config-backup` keeps), and putting one back. */

async function families(cli: CliEnv): Promise<Family[]> {
  const { identity, config } = await load(cli);
  return listFamilies(configBackupDir(identity.sharedState.value, cli.env), config.configBackupFiles);
}

function familyNamed(all: Family[], operand: string, cwd: string): Family {
  const f = findFamily(all, operand, cwd);
  if (!f)
    throw new UsageError({
      where: operand,
      message: 'not a file config-backup backs up on this machine',
      hint: `backed up here: ${all.map((x) => x.file).join(', ') || 'nothing yet'} (configBackup.files)`,
    });
  return f;
}

async function listCommand(cli: CliEnv): Promise<Outcome> {
  const all = await families(cli);
  const operand = cli.args.command[2];
  const shown = operand ? [familyNamed(all, operand, cli.cwd)] : all;
  const lines = shown.flatMap((f) => [
    `${f.file}  (${plural(f.snapshots.length, 'snapshot')}, in ${f.dir})`,
    ...f.snapshots.map((s) => `  ${formatDate(s.takenAt)}  ${s.hash}  ${formatBytes(s.bytes)}`),
  ]);
  return {
    exitCode: 0,
    doc: {
      command: 'backups list',
      files: shown.map((f) => ({
        file: f.file,
        family: f.family,
        snapshots: f.snapshots.map((s) => ({
          takenAt: new Date(s.takenAt).toISOString(),
          hash: s.hash,
          bytes: s.bytes,
          path: s.path,
        })),
      })),
    },
    lines: lines.length ? lines : ['no config is backed up on this machine (configBackup.files)'],
  };
}

function parseAt(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new UsageError({
      where: '--at',
      message: `"${raw}" is not a time`,
      hint: 'an ISO time, e.g. 2026-11-30T12:00Z',
    });
  return ms;
}

async function restoreCommand(cli: CliEnv): Promise<Outcome> {
  const operand = cli.args.command[2];
  if (!operand)
    throw new UsageError({
      where: 'backups restore',
      message: 'name the file to restore',
      hint: 'roosync-maint backups restore <file> [--at <time>] [--dry-run]',
    });
  const plan = planRestore(familyNamed(await families(cli), operand, cli.cwd), parseAt(cli.args.at), cli.now());
  const dryRun = cli.args.global.dryRun;
  if (!dryRun) applyRestore(plan);
  const from = `the snapshot of ${formatDate(plan.snapshot.takenAt)} (${plan.snapshot.hash})`;
  const lines = plan.unchanged
    ? [`${plan.file} already holds ${from}: nothing to do`]
    : [
        `${dryRun ? 'would restore' : 'restored'} ${plan.file} from ${from}`,
        ...(plan.aside ? [`  the file it replaces ${dryRun ? 'would be' : 'is'} kept as ${plan.aside}`] : []),
      ];
  return {
    exitCode: 0,
    doc: {
      command: 'backups restore',
      dryRun,
      file: plan.file,
      snapshot: { takenAt: new Date(plan.snapshot.takenAt).toISOString(), hash: plan.snapshot.hash },
      unchanged: plan.unchanged,
      ...(plan.aside && { keptAs: plan.aside }),
    },
    lines,
  };
}

/** The backups family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  'backups list': listCommand,
  'backups restore': restoreCommand,
};
