/** What git, ssh and Windows need from the environment to find home, config, credentials and proxies. */
const PASSED_TO_GIT = [
  'PATH',
  'HOME',
  'USERPROFILE',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'SystemRoot',
  'SYSTEMROOT',
  'ComSpec',
  'TEMP',
  'TMP',
  'TMPDIR',
  'XDG_CONFIG_HOME',
  'SSH_AUTH_SOCK',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

/**
 * The environment git runs with: an allowlist (simple-git refuses variables such as EDITOR or
 * GIT_SSH_COMMAND that could run other programs), no prompts, English messages for classifying.
 */
export function gitEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PASSED_TO_GIT) if (env[k] !== undefined) out[k] = env[k]!;
  // ROOSYNC_MAINT_IN_TICK: our own rebase checks files out; our hooks must not start a tick for that.
  return { ...out, LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0', ROOSYNC_MAINT_IN_TICK: '1' };
}
