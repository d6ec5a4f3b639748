import { changeRollout, resolveComponentRef } from '../../coordinator/rolloutOps.js';
import { UsageError } from '../../errors.js';
import { fleetStatus } from '../../report/fleetStatus.js';
import { type Rollout, parseSoak, parseWaves, readRollouts, waveMachines } from '../../rollout/plan.js';
import { formatAgo, formatTime } from '../../util/format.js';
import { type CliEnv, type Handler, load, type Outcome } from '../kit.js';

/** Rollouts: start one, see them, halt, resume or abort one (rollout/ has the rules, the ticks do the work). */

const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : '-');

function operand(cli: CliEnv, i: number, what: string): string {
  const v = cli.args.command[i];
  if (!v) throw new UsageError({ where: cli.args.command.slice(0, 2).join(' '), message: `which ${what}?` });
  return v;
}

async function startCommand(cli: CliEnv): Promise<Outcome> {
  const component = operand(cli, 2, 'component');
  const ref = operand(cli, 3, 'git ref');
  const waves = parseWaves(cli.args.waves);
  if (typeof waves === 'string')
    throw new UsageError({ where: '--waves', message: waves, hint: "--waves myia-ai-01 --waves '*'" });
  const soak = parseSoak(cli.args.soak ?? '24h');
  if (typeof soak === 'string') throw new UsageError({ where: '--soak', message: soak });
  const { machine, identity } = await load(cli);
  const declared = machine.config.components.find((c) => c.name === component);
  if (!declared)
    throw new UsageError({
      where: `rollout start ${component}`,
      message: `this machine's config declares no component "${component}": its checkout names the commit to roll out`,
      hint: `add "components": { "${component}": { "dir": …, "build": …, "verify": … } } to this machine's config`,
    });
  const target = await resolveComponentRef(declared, ref);
  const r = await changeRollout(
    { ...machine, wait: cli.args.wait, dryRun: cli.args.global.dryRun, noSync: cli.args.global.noSync },
    component,
    'starts',
    (current, now) => {
      if (current && (current.state === 'active' || current.state === 'halted'))
        throw new UsageError({
          where: `rollout start ${component}`,
          message: `a rollout of ${component} to ${short(current.target)} is ${current.state}: one rollout per component`,
          hint: `\`roosync-maint rollout abort ${component}\` first, or \`rollout resume ${component}\``,
        });
      const at = new Date(now).toISOString();
      return {
        component,
        ref,
        target,
        waves,
        soakMinutes: soak,
        state: 'active',
        openWave: 0,
        waveOpenedAt: at,
        startedAt: at,
        startedBy: identity.machineId.value,
        leftBehind: [],
        updatedAt: at,
      };
    },
  );
  return changed(cli, 'rollout start', r, [
    `${r.written ? 'started' : 'would start'} the rollout of ${component} to ${short(target)} (${ref}): ` +
      `${waves.map((w) => w.join(',')).join(' → ')}, soak ${soak} min`,
    'each machine of the open wave updates at its next tick; the leader opens the next wave after the soak',
  ]);
}

function changed(cli: CliEnv, command: string, r: Awaited<ReturnType<typeof changeRollout>>, lines: string[]): Outcome {
  const sync = cli.args.global.dryRun
    ? 'dry run: nothing written'
    : r.pushed
      ? 'committed and pushed'
      : r.written
        ? 'written'
        : '';
  return {
    exitCode: 0,
    doc: { command, ...r },
    lines: [...lines, ...(sync ? [sync] : []), ...r.notes.map((n) => `note: ${n}`)],
  };
}

/** halt, resume, abort: one state change, refused when it makes no sense. */
function stateCommand(verb: 'halt' | 'resume' | 'abort', from: Rollout['state'][], to: Rollout['state']) {
  return async (cli: CliEnv): Promise<Outcome> => {
    const component = operand(cli, 2, 'component');
    const { machine, identity } = await load(cli);
    const r = await changeRollout(
      { ...machine, wait: cli.args.wait, dryRun: cli.args.global.dryRun, noSync: cli.args.global.noSync },
      component,
      `${verb}s`,
      (current, now) => {
        if (!current)
          throw new UsageError({ where: `rollout ${verb} ${component}`, message: `no rollout of ${component}` });
        if (!from.includes(current.state))
          throw new UsageError({
            where: `rollout ${verb} ${component}`,
            message: `the rollout of ${component} is ${current.state}: nothing to ${verb}`,
          });
        const at = new Date(now).toISOString();
        const reason = `${verb === 'halt' ? 'halted' : verb === 'abort' ? 'aborted' : 'resumed'} by hand on ${identity.machineId.value}`;
        return { ...current, state: to, reason, updatedAt: at, ...(to === 'active' && { waveOpenedAt: at }) };
      },
    );
    return changed(cli, `rollout ${verb}`, r, [
      `the rollout of ${component} is now ${r.plan.state} (${r.plan.reason})`,
    ]);
  };
}

async function statusCommand(cli: CliEnv): Promise<Outcome> {
  const { machine } = await load(cli);
  const now = cli.now();
  const { plans, damaged } = readRollouts(machine.sharedState);
  const fleet = fleetStatus(machine.sharedState, machine.config.config, now);
  const known = fleet.machines.map((m) => m.machine);
  const wanted = cli.args.command[2];
  const shown = wanted ? plans.filter((p) => p.component === wanted) : plans;
  if (wanted && shown.length === 0)
    throw new UsageError({ where: `rollout status ${wanted}`, message: `no rollout of ${wanted}` });
  const lines: string[] = [];
  const docs = shown.map((p) => {
    const machines = p.waves.map((_, i) =>
      waveMachines(p, i, known).map((m) => {
        const st = fleet.machines.find((x) => x.machine === m);
        const c = st?.components?.[p.component];
        return {
          machine: m,
          wave: i + 1,
          commit: c?.commit ?? null,
          atTarget: c?.commit === p.target,
          state: c?.state ?? null,
          verifiedAt: c?.verifiedAt ?? null,
          reason: c?.reason ?? null,
          silent: st?.silent ?? null,
        };
      }),
    );
    const started = `started ${formatTime(Date.parse(p.startedAt))} by ${p.startedBy}`;
    const opened = Date.parse(p.waveOpenedAt);
    lines.push(
      `${p.component}: ${p.state.toUpperCase()} — ${short(p.target)} (${p.ref}), ${started}`,
      ...(p.reason ? [`  why: ${p.reason}`] : []),
      `  wave ${p.openWave + 1} of ${p.waves.length} open since ${formatTime(opened)} (${formatAgo(now - opened)}); ` +
        `soak ${p.soakMinutes} min`,
    );
    for (const [i, wave] of machines.entries())
      for (const m of wave)
        lines.push(
          `  wave ${i + 1}  ${m.machine.padEnd(20)} ${m.atTarget ? 'at target' : `at ${short(m.commit)}`}` +
            `${m.state && m.state !== 'ok' ? ` — ${m.state}: ${m.reason ?? ''}` : ''}${m.silent ? ' (silent)' : ''}` +
            `${i > p.openWave ? ' (wave not open)' : ''}`,
        );
    if (p.leftBehind.length) lines.push(`  left behind (silent when their wave ran): ${p.leftBehind.join(', ')}`);
    return { ...p, machines: machines.flat() };
  });
  if (shown.length === 0) lines.push('no rollout (`roosync-maint rollout start <component> <ref>` starts one)');
  const skew = fleet.components;
  if (skew.length)
    lines.push(
      '',
      'components on the machines:',
      ...skew.map(
        (s) => `  ${s.component}: ${s.commits.map((c) => `${short(c.commit)} × ${c.machines.length}`).join(', ')}`,
      ),
    );
  for (const d of damaged) lines.push(`${d.file}: not a rollout plan (${d.reason})`);
  const halted = shown.some((p) => p.state === 'halted');
  return {
    exitCode: halted ? 1 : 0,
    doc: { command: 'rollout status', ok: !halted, rollouts: docs, components: skew, damaged },
    lines,
  };
}

/** The rollout family's handlers, by command words (the specs are in cli/catalogue.ts). */
export const handlers: Record<string, Handler> = {
  'rollout start': startCommand,
  'rollout status': statusCommand,
  'rollout halt': stateCommand('halt', ['active'], 'halted'),
  'rollout resume': stateCommand('resume', ['halted'], 'active'),
  'rollout abort': stateCommand('abort', ['active', 'halted'], 'aborted'),
};
