import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../util/fs.js';
import path from 'node:path';
import { shellQuote } from '../../util/shell.js';
import { findGitDir } from '../../sharedState/localState.js';
import { UsageError } from '../../errors.js';
import { STARTER_CONFIG } from '../../config/starter.js';

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { censorText } from '../../util/censor.js';
import { layerFleetConfig, parseConfigRaw } from '../../config/load.js';
import { readApprovals, recordApproval, revokeApprovals } from '../../config/trustStore.js';
import { configLayersFor } from '../../sharedState/localState.js';
import {
  describeSetting,
  machineOnlySettings,
  powerfulHash,
  powerfulSettings,
  trustDoc,
  trustNotice,
} from '../../config/layers.js';
import { identityOf, load, type CliEnv, type Handler, type Outcome } from '../kit.js';

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
  const { layers } = config;
  const sources = {
    sharedState: identity.sharedState,
    machineId: identity.machineId,
    config: {
      value: identity.configPath.value,
      source: `${identity.configPath.source}${config.found ? '' : ' — file not found, defaults apply'}`,
    },
    machineConfig: {
      value: identity.machineConfig.value,
      source: `${identity.machineConfig.source}${layers.machineFound ? '' : ' — file not found'}`,
    },
  };
  const width = Math.max(...Object.keys(layers.sources).map((k) => k.length));
  const lines = [
    `shared state:   ${sources.sharedState.value}   (from ${sources.sharedState.source})`,
    `machine id:     ${sources.machineId.value}   (from ${sources.machineId.source})${myiaNote(identity.machineId.value)}`,
    `fleet config:   ${sources.config.value}   (from ${sources.config.source})`,
    `machine config: ${sources.machineConfig.value}   (from ${sources.machineConfig.source})`,
    ...config.skipped.map((s) => `note: ${s.where}: ${s.message}`),
    ...trustNotice(layers.trust).map((l) => `note: ${l}`),
    '',
    'effective config (each setting, then where it came from):',
    ...Object.entries(layers.sources).map(
      ([key, source]) => `  ${key.padEnd(width)}  ${valueAt(config.config, key)}   (${source})`,
    ),
    '',
    'resolved on this machine:',
    JSON.stringify(resolved, null, 2),
  ];
  return {
    exitCode: 0,
    doc: {
      command: 'config show',
      sources,
      config: config.config,
      settingSources: layers.sources,
      trust: trustDoc(layers.trust),
      resolved,
      skipped: config.skipped,
    },
    lines,
  };
}

/** A setting's value for the `config show` table: one line, censored, bounded. */
function valueAt(config: object, key: string): string {
  let at: unknown = config;
  for (const part of key.split('.')) at = (at as Record<string, unknown> | undefined)?.[part];
  const text = censorText(JSON.stringify(at) ?? 'unset');
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/**
 * `config trust`: shows every powerful setting of the fleet config (commands, local paths, hosts, secrets'
 * env names) and records this exact content as approved on this machine. A later change to any of them is
 * ignored again until approved again; policy edits need no approval.
 */
async function configTrust(cli: CliEnv): Promise<Outcome> {
  const identity = identityOf(cli);
  const layers = configLayersFor(identity.sharedState.value, identity.machineConfig.value, cli.env);
  const file = identity.configPath.value;
  const trustFile = layers.trustFile as string;
  if (cli.args.revoke) {
    const n = cli.args.global.dryRun ? 0 : revokeApprovals(trustFile);
    return {
      exitCode: 0,
      doc: { command: 'config trust', revoked: n, trustFile, dryRun: cli.args.global.dryRun },
      lines: [
        cli.args.global.dryRun
          ? `would forget every approval in ${trustFile}`
          : `forgot ${n} approval(s): the fleet config's powerful settings are ignored on this machine again`,
      ],
    };
  }
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined)
    throw new UsageError({
      where: file,
      message: 'no fleet config to approve',
      hint: 'check --config or --shared-state',
    });
  const raw = parseConfigRaw(text, file);
  // the same checks as a run: an invalid config is not approved (its problems are the answer)
  await layerFleetConfig(raw, file, true, layers);
  const settings = powerfulSettings(raw);
  const ignored = machineOnlySettings(raw);
  const hash = powerfulHash(settings);
  const shown = settings.map((s) => describeSetting(s));
  const notes = ignored.map((s) => `${describeSetting(s)} — machine config only: ignored whatever is approved`);
  const doc = { command: 'config trust', file, trustFile, hash: hash ?? null, settings: shown, ignored: notes };
  if (hash === undefined)
    return {
      exitCode: 0,
      doc: { ...doc, approved: false },
      lines: [`${file} asks for no command, local path, host or secret: nothing to approve`, ...notes],
    };
  const intro = [
    `${file} asks this machine for ${settings.length} powerful setting(s):`,
    ...shown.map((l) => `  ${l}`),
  ];
  const already = readApprovals(trustFile).includes(hash);
  if (already)
    return {
      exitCode: 0,
      doc: { ...doc, approved: true, already: true },
      lines: [...intro, 'already approved', ...notes],
    };
  const ask = !cli.args.yes && !cli.args.global.json && !cli.args.global.dryRun && process.stdin.isTTY === true;
  const yes = cli.args.yes || (ask && (await confirm(`${intro.join('\n')}\napprove exactly these? [y/N] `)));
  if (!yes || cli.args.global.dryRun) {
    const how = cli.args.global.dryRun
      ? 'dry run: nothing recorded'
      : 'not approved: they stay ignored (run `roosync-maint config trust --yes` to approve them)';
    return {
      exitCode: cli.args.global.dryRun ? 0 : 1,
      doc: { ...doc, approved: false },
      lines: [...intro, how, ...notes],
    };
  }
  recordApproval(trustFile, hash, shown, cli.now());
  return {
    exitCode: 0,
    doc: { ...doc, approved: true },
    lines: [...intro, `approved on this machine (${hash.slice(0, 19)}…, recorded in ${trustFile})`, ...notes],
  };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
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

/** The config family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  'config validate': configValidate,
  'config show': configShow,
  'config trust': configTrust,
  'config init': configInit,
};
