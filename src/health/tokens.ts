import type { MaintenanceConfig } from '../config/schema.js';
import { probeGitHubToken } from '../github/issues.js';
import { checkTokens } from './checks.js';
import type { CheckResult } from './types.js';

type Token = MaintenanceConfig['health']['tokens'][number];

function tokenCheck(t: Token, state: CheckResult['state'], summary: string, high = false): CheckResult {
  return {
    check: 'tokens',
    subject: t.name,
    state,
    type: 'SECURITY',
    severity: high ? 'HIGH' : 'LOW',
    ...(high && { priority: 'URGENT' as const }),
    summary,
    actions:
      state === 'failing'
        ? [`Create a new ${t.name}${t.usedBy ? ` (used by ${t.usedBy})` : ''} and put it in ${t.env} where it is used`]
        : [],
    data: { token: t.name, usedBy: t.usedBy ?? null, env: t.env ?? null },
  };
}

/**
 * The tokens' checks: the expiry the config states, or, for a token with a probe, what the service says
 * of it now — rejected (401: HIGH), or its expiry from GitHub's GitHub-Authentication-Token-Expiration
 * header when the config states none. Only the variable's name is ever shown; its value goes to the
 * service and nowhere else.
 */
export async function tokenChecks(
  tokens: readonly Token[],
  env: NodeJS.ProcessEnv,
  now: number,
  tokenHosts: readonly string[] = [],
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const t of tokens) {
    let expiresAt = t.expiresAt;
    if (t.probe && t.env) {
      const value = env[t.env];
      const probe = value ? await probeGitHubToken(value, t.probe.apiUrl, tokenHosts) : undefined;
      if (probe?.state === 'rejected') {
        out.push(tokenCheck(t, 'failing', `${t.name} was rejected by GitHub (401): it is revoked or expired`, true));
        continue;
      }
      if (probe?.state === 'valid') expiresAt ??= probe.expiresAt;
      if (!expiresAt) {
        const why = !value
          ? `${t.env} is not set on this machine`
          : probe?.state === 'valid'
            ? `accepted by GitHub (as ${probe.login}), no expiry`
            : `not probed: ${probe?.state === 'unknown' ? probe.reason : ''}`;
        out.push(tokenCheck(t, probe?.state === 'valid' ? 'ok' : 'skipped', `${t.name}: ${why}`));
        continue;
      }
    }
    out.push(...checkTokens([{ ...t, expiresAt: expiresAt! }], now));
  }
  return out;
}
