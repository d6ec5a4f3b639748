import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors.js';
import {
  COMMAND_OPTIONS,
  finishArgs,
  GLOBAL_OPTIONS,
  longName,
  type OptionDef,
  type ParsedArgs,
  type RawOptions,
} from './args.js';
import type { CommandSpec } from './kit.js';

export const EXIT_CODES = [
  '  0  done',
  '  1  a task failed; health, doctor: a check failed',
  '  2  usage, config or setup error: nothing done (bad flag, missing or read-only shared state)',
  '  3  busy: another run holds this machine (--wait waits for it)',
];

/** What the command line asked for: a command to run, or a text (help, version) to print with its exit code. */
export type Parsed =
  | { kind: 'command'; spec: CommandSpec; args: ParsedArgs }
  | { kind: 'text'; text: string; exitCode: number; doc: Record<string, unknown> };

function toOption(def: OptionDef): Option {
  const option = new Option(def.flags, def.description);
  if (def.choices) option.choices(def.choices);
  if (def.repeat === 'collect') option.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  if (def.repeat === 'count') option.argParser((_v: string, prev: number | undefined) => (prev ?? 0) + 1).default(0);
  return option;
}

/** The top-level page: every command with its usage (as git's), the global options, the exit codes. */
export function helpText(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  const options = Object.values(GLOBAL_OPTIONS) as OptionDef[];
  const flagWidth = Math.max(...options.map((o) => o.flags.length));
  return [
    'roosync-maint — maintenance coordinator for RooSync fleets',
    '',
    'usage: roosync-maint <command> [options]     roosync-maint help <command>',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'global options (any command):',
    ...options.map((o) => `  ${o.flags.padEnd(flagWidth)}  ${o.description}`),
    '  -h, --help'.padEnd(flagWidth + 4) + "this page, or a command's own: roosync-maint run --help",
    '',
    'exit codes:',
    ...EXIT_CODES,
  ].join('\n');
}

/** A commander program built from the command specs: each command takes the global options and its own. */
function buildProgram(specs: readonly CommandSpec[], out: string[], env: NodeJS.ProcessEnv) {
  let chosen: { spec: CommandSpec; args: ParsedArgs } | undefined;
  const program = new Command('roosync-maint')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out.push(s),
      writeErr: (s) => out.push(s),
      outputError: () => {}, // errors are reported once, by main, as usage errors
      getOutHelpWidth: () => 110,
      getErrHelpWidth: () => 110,
    })
    .configureHelp({ sortSubcommands: false })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  for (const def of Object.values(GLOBAL_OPTIONS) as OptionDef[]) program.addOption(toOption(def));
  program.helpInformation = () => `${helpText(specs)}\n`;
  const groups = new Map<string, Command>();
  for (const spec of specs) {
    const [first, second] = spec.words as [string, string?];
    let parent = program;
    if (second) {
      let group = groups.get(first);
      if (!group) {
        const members = specs.filter((s) => s.words[0] === first && s.words.length === 2).map((s) => s.words[1]);
        group = program
          .command(first)
          .description(`${members.join(', ')}: see roosync-maint ${first} <command> --help`);
        groups.set(first, group);
      }
      parent = group;
    }
    const cmd = parent.command(second ?? first).description(spec.summary);
    for (const o of spec.operands ?? (spec.operand ? [spec.operand] : [])) cmd.argument(o.name, o.description);
    for (const name of spec.options ?? []) cmd.addOption(toOption(COMMAND_OPTIONS[name]));
    const after = [
      '',
      'Global options (--json, --dry-run, --shared-state, …): see roosync-maint --help',
      '',
      'Examples:',
      ...spec.examples.map((e) => `  ${e}`),
      ...(spec.details ? ['', ...spec.details()] : []),
    ];
    cmd.addHelpText('after', after.join('\n'));
    cmd.action((...actionArgs: unknown[]) => {
      const self = actionArgs.at(-1) as Command;
      const operands = self.processedArgs.filter((a): a is string => typeof a === 'string');
      const raw = self.optsWithGlobals() as RawOptions;
      // commander keeps `--no-sync` as `sync: false`; the rest of the tool speaks of `noSync`
      const values: RawOptions = { ...raw, 'no-sync': raw.sync === false };
      for (const def of [...Object.values(GLOBAL_OPTIONS), ...Object.values(COMMAND_OPTIONS)] as OptionDef[]) {
        const camel = longName(def).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        if (camel !== longName(def) && raw[camel] !== undefined) values[longName(def)] = raw[camel];
      }
      chosen = { spec, args: finishArgs([...spec.words, ...operands], values, env) };
    });
  }
  return { program, chosen: () => chosen };
}

/** Parses a command line; usage errors are thrown as `UsageError` (exit 2), with commander's did-you-mean as the hint. */
export function parseProgram(argv: readonly string[], specs: readonly CommandSpec[], env: NodeJS.ProcessEnv): Parsed {
  const out: string[] = [];
  const { program, chosen } = buildProgram(specs, out, env);
  const text = (exitCode: number) => {
    const t = out.join('').trimEnd();
    return { kind: 'text' as const, text: t, exitCode, doc: { help: t } };
  };
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // `--help` and `help <cmd>` exit 0; a group alone (`leader`) shows its page as a usage error
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')
      return text(err.exitCode === 0 ? 0 : 2);
    const [message = err.message, suggestion] = err.message.replace(/^error: /, '').split('\n');
    const words = argv.filter((a) => !a.startsWith('-')).slice(0, 2);
    throw new UsageError({
      where: 'command line',
      message,
      hint: suggestion?.replace(/^\((.*)\)$/, '$1') ?? helpHint(words, specs),
    });
  }
  const picked = chosen();
  if (!picked) return text(2); // no command, options only: commander showed the overview; a usage error
  return { kind: 'command', ...picked };
}

/** The usage of the command the words name, and where its help is; the overview's when they name none. */
function helpHint(words: string[], specs: readonly CommandSpec[]): string {
  const known = specs.find((s) => s.words.every((w, i) => words[i] === w));
  if (!known) return 'see roosync-maint --help';
  return `usage: roosync-maint ${known.usage} (more: roosync-maint ${known.words.join(' ')} --help)`;
}
