/** One problem an operator can act on: where it is, what is wrong, what to do. */
export interface Problem {
  /** A file, or a file plus a JSON path such as `rollback.retentionDays`. */
  where: string;
  message: string;
  hint?: string;
}

export function formatProblem(p: Problem): string {
  return `${p.where}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`;
}

/** Bad input from the operator (flags, config, environment): exit 2, nothing was done. */
export class UsageError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[] | Problem) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join('\n'));
    this.name = 'UsageError';
    this.problems = list;
  }
}

/** A step that could not be done (a scheduler refused, a tool is missing): exit 1, with what to do instead. */
export class SetupError extends Error {
  readonly problems: Problem[];
  constructor(problem: Problem) {
    super(formatProblem(problem));
    this.name = 'SetupError';
    this.problems = [problem];
  }
}

/** Another run holds this machine's lock: exit 3, nothing was done. */
export class BusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusyError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** How a command that threw ended, as every front end (the CLI, the MCP server) reports it. */
export interface Failure {
  exit: 'usage' | 'busy' | 'failed';
  kind: string;
  problems: Problem[];
}

export function failureOf(err: unknown): Failure {
  if (err instanceof UsageError)
    return { exit: 'usage', kind: 'usage or config error, nothing was done', problems: err.problems };
  if (err instanceof SetupError) return { exit: 'failed', kind: 'failed', problems: err.problems };
  const problems = [{ where: 'roosync-maint', message: errorMessage(err) }];
  if (err instanceof BusyError) return { exit: 'busy', kind: 'busy, nothing was done', problems };
  return { exit: 'failed', kind: 'failed', problems };
}

/** A failure in one line: the kind, then each problem with its hint. */
export function failureLine(f: Failure): string {
  return `${f.kind}: ${f.problems.map((p) => `${p.where}: ${p.message}${p.hint ? ` → ${p.hint}` : ''}`).join('; ')}`;
}
