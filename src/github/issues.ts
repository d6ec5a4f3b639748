import type { Octokit } from '@octokit/rest';
import { censorText } from '../util/censor.js';

/**
 * The few GitHub issue calls maintenance needs, through @octokit/rest against `apiUrl` (the public API
 * or a GitHub Enterprise one). An existing issue is found by listing the repo's open issues with our label
 * (`GET /repos/{owner}/{repo}/issues?labels=…&state=open`), never through the search API, whose index lags
 * and would let a duplicate through. Nothing here retries: a failure is classified and the caller decides.
 */

export const ISSUE_LABEL = 'roosync-maint';

export interface GitHubTarget {
  repo: string;
  token: string;
  apiUrl: string;
  labels: readonly string[];
  /** The hosts besides api.github.com this machine's own config allows a token to go to (`trust.tokenHosts`). */
  tokenHosts: readonly string[];
}

/** Where a token may go with no one's say-so: GitHub's own API. */
export const GITHUB_API_HOST = 'api.github.com';

/**
 * Whether a token may be sent to `apiUrl`: over https to api.github.com or to a host this machine's own config
 * lists in `trust.tokenHosts`; over plain http only to a loopback address listed there with its scheme (a
 * local stand-in, e.g. `http://127.0.0.1:8080`). The answer is a reason to refuse, or undefined.
 */
export function tokenDestinationProblem(apiUrl: string, tokenHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return `${apiUrl} is not a URL`;
  }
  const host = url.host.toLowerCase();
  const listed = tokenHosts.map((h) => h.toLowerCase());
  if (url.protocol === 'https:') {
    if (url.hostname.toLowerCase() === GITHUB_API_HOST && url.port === '') return undefined;
    if (listed.includes(host) || listed.includes(`https://${host}`)) return undefined;
    return `${host} is not api.github.com and not in this machine's trust.tokenHosts`;
  }
  const loopback = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/i.test(url.hostname);
  if (url.protocol === 'http:' && loopback && listed.includes(`http://${host}`)) return undefined;
  return (
    `${url.protocol}//${host} is not https (plain http goes only to a loopback stand-in listed as ` +
    'http://host:port in trust.tokenHosts)'
  );
}

/** A refused destination: the token was never sent. */
export class TokenDestinationRefused extends Error {
  constructor(readonly reason: string) {
    super(`refused to send the token: ${reason}`);
    this.name = 'TokenDestinationRefused';
  }
}

function checkedDestination(apiUrl: string, tokenHosts: readonly string[]): void {
  const problem = tokenDestinationProblem(apiUrl, tokenHosts);
  if (problem) throw new TokenDestinationRefused(problem);
}

export interface Issue {
  number: number;
  title: string;
  url: string;
}

export type GitHubFailureKind = 'auth' | 'not-found' | 'rate-limited' | 'other';

export class GitHubFailure extends Error {
  constructor(
    readonly kind: GitHubFailureKind,
    message: string,
    readonly status?: number,
    /** When a rate limit resets (epoch ms), if the API said. */
    readonly resetAt?: number,
  ) {
    super(message);
    this.name = 'GitHubFailure';
  }
}

/** A failed call as the operator can act on it: bad token, no such repo, rate limited, or anything else. */
export function classifyGitHubError(err: unknown): GitHubFailure {
  const e = err as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  const message = String(e.message ?? err).split('\n')[0]!;
  if (status === 429 || (status === 403 && headers['x-ratelimit-remaining'] === '0')) {
    const reset = Number(headers['x-ratelimit-reset']);
    return new GitHubFailure('rate-limited', message, status, Number.isFinite(reset) ? reset * 1000 : undefined);
  }
  if (status === 401 || status === 403) return new GitHubFailure('auth', message, status);
  if (status === 404) return new GitHubFailure('not-found', message, status);
  return new GitHubFailure('other', message, status);
}

/**
 * One Octokit as every GitHub call here wants it: no logging (a token must never reach a log), a timeout. Loaded
 * when a call is made: its endpoint tables cost a tick that makes no GitHub call about 10 ms of start-up.
 */
async function octokitFor(token: string, apiUrl: string): Promise<Octokit> {
  const { Octokit } = await import('@octokit/rest');
  return new Octokit({
    auth: token,
    baseUrl: apiUrl.replace(/\/+$/, ''),
    userAgent: 'roosync-maint',
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    request: { timeout: 30_000 },
  });
}

/** The GitHub client's code, loaded now (cli/preload.ts: a long-running process takes all of its code at start). */
export async function loadGitHubClient(): Promise<void> {
  await import('@octokit/rest');
}

export type TokenProbe =
  | { state: 'valid'; login: string; expiresAt?: string }
  | { state: 'rejected'; status: number }
  | { state: 'unknown'; reason: string };

/**
 * `GET /user` with the token: accepted (with its expiry from GitHub-Authentication-Token-Expiration, when
 * GitHub sends one), rejected (401), or not known (unreachable, rate limited, anything else).
 */
export async function probeGitHubToken(
  token: string,
  apiUrl: string,
  tokenHosts: readonly string[],
): Promise<TokenProbe> {
  const refused = tokenDestinationProblem(apiUrl, tokenHosts);
  if (refused) return { state: 'unknown', reason: `refused to send the token: ${refused}` };
  try {
    const r = await (await octokitFor(token, apiUrl)).rest.users.getAuthenticated();
    const header = r.headers['github-authentication-token-expiration'];
    const expires = typeof header === 'string' ? Date.parse(header.replace(' UTC', 'Z').replace(' ', 'T')) : NaN;
    return {
      state: 'valid',
      login: r.data.login,
      ...(!Number.isNaN(expires) && { expiresAt: new Date(expires).toISOString() }),
    };
  } catch (err) {
    const f = classifyGitHubError(err);
    if (f.status === 401) return { state: 'rejected', status: 401 };
    return { state: 'unknown', reason: f.status ? `GitHub answered ${f.status}` : f.message };
  }
}

export class IssueTracker {
  private octokit: Promise<Octokit> | undefined;
  private readonly owner: string;
  private readonly name: string;

  constructor(private readonly target: GitHubTarget) {
    const [owner = '', name = ''] = target.repo.split('/');
    this.owner = owner;
    this.name = name;
    checkedDestination(target.apiUrl, target.tokenHosts);
  }

  private async call<T>(fn: (octokit: Octokit) => Promise<T>): Promise<T> {
    try {
      this.octokit ??= octokitFor(this.target.token, this.target.apiUrl);
      return await fn(await this.octokit);
    } catch (err) {
      throw classifyGitHubError(err);
    }
  }

  /** Our open issue with this exact title, from the label's open issues (up to 100, newest first). */
  async findOpen(title: string): Promise<Issue | undefined> {
    const { data } = await this.call((octokit) =>
      octokit.rest.issues.listForRepo({
        owner: this.owner,
        repo: this.name,
        labels: ISSUE_LABEL,
        state: 'open',
        per_page: 100,
      }),
    );
    const found = data.find((i) => i.title === title && !i.pull_request);
    return found && { number: found.number, title: found.title, url: found.html_url };
  }

  async open(title: string, body: string): Promise<Issue> {
    const { data } = await this.call((octokit) =>
      octokit.rest.issues.create({
        owner: this.owner,
        repo: this.name,
        title: censorText(title),
        body: censorText(body),
        labels: [ISSUE_LABEL, ...this.target.labels],
      }),
    );
    return { number: data.number, title: data.title, url: data.html_url };
  }

  async comment(issue: number, body: string): Promise<void> {
    await this.call((octokit) =>
      octokit.rest.issues.createComment({
        owner: this.owner,
        repo: this.name,
        issue_number: issue,
        body: censorText(body),
      }),
    );
  }

  async close(issue: number): Promise<void> {
    await this.call((octokit) =>
      octokit.rest.issues.update({ owner: this.owner, repo: this.name, issue_number: issue, state: 'closed' }),
    );
  }
}
