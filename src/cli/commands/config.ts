import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../util/fs.js';
import path from 'node:path';
import { shellQuote } from '../../util/shell.js';
import { findGitDir } from '../../sharedState/localState.js';
import { UsageError } from '../../errors.js';
import { STARTER_CONFIG } from '../../config/starter.js';

import { identityOf, load, type CliEnv, type CommandSpec, type Outcome } from '../kit.js';

/** The config: validate, show, init. */

/** RooSync's status views only count machines whose id starts with `myia-`: say so when this one does not. */
function myiaNote(machineId: string): string {
  return machineId.startsWith('myia-') ? '' : ' — note: RooSync status views only count ids starting with myia-';
}

async function configValidate(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const file = identity.configPath.value;
  const lines = [config.found ? `${file}: valid` : `${file}: not found — the defaults apply (valid)`];
  lines.push(...config.skipped.map((s) => `note: ${s.where}: ${s.message}`));
  return {
    exitCode: 0,
    doc: { command: 'config validate', ok: true, file, found: config.found, skipped: config.skipped },
    lines,
  };
}

async function configShow(cli: CliEnv): Promise<Outcome> {
  const { identity, config } = await load(cli);
  const resolved = {
    checkpointRoots: config.checkpointRoots,
    localLogDirs: config.localLogDirs,
    localBackupFiles: config.localBackupFiles,
    mcpSettingsPath: config.mcpSettingsPath,
    depsDirs: config.depsDirs,
    rules: config.rules.map((r) => ({ name: r.name, root: r.rootPath })),
  };
  const sources = {
    sharedState: identity.sharedState,
    machineId: identity.machineId,
    config: {
      value: identity.configPath.value,
      source: `${identity.configPath.source}${config.found ? '' : ' — file not found, defaults apply'}`,
    },
  };
  const lines = [
    `shared state: ${sources.sharedState.value}   (from ${sources.sharedState.source})`,
    `machine id:   ${sources.machineId.value}   (from ${sources.machineId.source})${myiaNote(identity.machineId.value)}`,
    `config:       ${sources.config.value}   (from ${sources.config.source})`,
    ...config.skipped.map((s) => `note: ${s.where}: ${s.message}`),
    '',
    'effective config:',
    JSON.stringify(config.config, null, 2),
    '',
    'resolved on this machine:',
    JSON.stringify(resolved, null, 2),
  ];
  return {
    exitCode: 0,
    doc: { command: 'config show', sources, config: config.config, resolved, skipped: config.skipped },
    lines,
  };
}

async function configInit(cli: CliEnv): Promise<Outcome> {
  const identity = identityOf(cli);
  const file = identity.configPath.value;
  if (cli.args.global.dryRun)
    return {
      exitCode: 0,
      doc: { command: 'config init', file, written: false, content: STARTER_CONFIG },
      lines: [`would write ${file}:`, STARTER_CONFIG],
    };
  if (existsSync(file) && !cli.args.force)
    throw new UsageError({
      where: file,
      message: 'already exists: not overwritten',
      hint: 'pass --force to replace it, or edit it and run config validate',
    });
  writeFileAtomic(file, STARTER_CONFIG);
  // the fleet config reaches the other machines only through the shared state: in a clone, by a commit
  const top = findGitDir(identity.sharedState.value) ? path.dirname(file) : undefined;
  const git = (args: string) => `git -C ${shellQuote(top ?? '.')} ${args}`;
  const share = top
    ? [
        'the other machines get it once it is committed and pushed (no tick commits a config for you):',
        `  ${git(`add ${shellQuote(path.basename(file))}`)} && ${git('commit -m "maintenance config"')} && ${git('push')}`,
      ]
    : ['the other machines see it as soon as the shared folder syncs'];
  return {
    exitCode: 0,
    doc: { command: 'config init', file, written: true, shareBy: top ? 'commit and push' : 'folder sync' },
    lines: [`wrote ${file} — edit it, then run: roosync-maint config validate`, ...share],
  };
}

export const configCommands: CommandSpec[] = [
  {
    words: ['config', 'validate'],
    usage: 'config validate',
    summary: 'check the config; every problem names its JSON path',
    examples: ['roosync-maint config validate', 'roosync-maint config validate --config ./draft.json'],
    handler: configValidate,
  },
  {
    words: ['config', 'show'],
    usage: 'config show',
    summary: 'print the effective config and where each setting came from',
    examples: ['roosync-maint config show', 'roosync-maint config show --json'],
    handler: configShow,
  },
  {
    words: ['config', 'init'],
    usage: 'config init [--force]',
    summary: 'write a commented starter config',
    options: ['force'],
    examples: ['roosync-maint config init', 'roosync-maint config init --dry-run'],
    handler: configInit,
  },
];
