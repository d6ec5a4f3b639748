/** Why a git call against the remote failed, as far as its own words tell. */
export type GitFailureKind = 'lost-race' | 'unreachable' | 'auth' | 'conflict' | 'other';

/** One pattern from git's wordings, each on its own line. */
const anyOf = (...words: string[]) => new RegExp(words.join('|'), 'i');

const PATTERNS: [GitFailureKind, RegExp][] = [
  // someone else pushed first: the four wordings git uses
  [
    'lost-race',
    anyOf(
      'non-fast-forward',
      'fetch first',
      'cannot lock ref',
      'unable to lock',
      'failed to lock',
      'stale info',
      'tip of your current branch is behind',
    ),
  ],
  // before "unreachable": an ssh key refusal also says "Could not read from remote repository"
  [
    'auth',
    anyOf(
      'authentication failed',
      'permission denied',
      'could not read (username|password)',
      'terminal prompts disabled',
      'HTTP (401|403)',
      '403 Forbidden',
      'invalid credentials',
    ),
  ],
  [
    'unreachable',
    anyOf(
      'could not read from remote repository',
      'does not appear to be a git repository',
      'could not resolve host',
      'connection (refused|timed out|reset)',
      'unable to access',
      'network is unreachable',
      'no route to host',
      'timeout',
      'timed out',
      'repository .* not found',
    ),
  ],
];

export function classifyGitFailure(message: string): GitFailureKind {
  for (const [kind, re] of PATTERNS) if (re.test(message)) return kind;
  return 'other';
}

const INDEX_LOCK = /index\.lock'?:? File exists/i;
const INDEX_LOCK_HINT =
  ' — .git/index.lock was left by a git process that was killed (or one still runs in this clone): roosync-maint ' +
  'removes it once it is 10 minutes old and no git process works here; remove it yourself if you are sure none does';

/** A failed git call, classified, with git's own words kept for the operator (first lines only). */
export class GitFailure extends Error {
  constructor(
    readonly kind: GitFailureKind,
    readonly command: string,
    detail: string,
  ) {
    super(
      `git ${command}: ${kind}: ${detail
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('hint:'))
        .slice(0, 4)
        .join(' | ')}${INDEX_LOCK.test(detail) ? INDEX_LOCK_HINT : ''}`,
    );
    this.name = 'GitFailure';
  }
}
