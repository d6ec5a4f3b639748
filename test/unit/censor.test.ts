import { describe, expect, it } from 'vitest';
import { argSecrets, CENSORED, censorText, censorValue, isSecretName, secretsOf } from '../../src/util/censor.js';

/** The one secret matcher, pure (npm run test:unit); every channel's end-to-end test is test/secrets.test.ts. */
describe('censor', () => {
  it('secret names by their parts, not by a word inside another', () => {
    for (const n of ['GITHUB_TOKEN', 'apiKey', 'SMTP_PASS', 'sshKey', 'accessKeyId', 'client_secret', 'password'])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['tokens', 'keyboard', 'passage', 'monkey', 'timeoutSeconds'])
      expect(isSecretName(n), n).toBe(false);
  });

  it('token shapes, URL passwords and flags in free text', () => {
    const ghp = `ghp_${'a'.repeat(36)}`;
    const out = censorText(`push https://bob:hunter2@example.com/x.git with --token ${ghp} and ${ghp}`);
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain(ghp);
    expect(out).toContain(CENSORED);
    expect(out).toContain('example.com/x.git');
  });

  it('known secrets anywhere, also JSON-escaped', () => {
    const secret = 'pa"ss\\word-123';
    const json = JSON.stringify({ note: `it was ${secret}` });
    expect(censorText(json, [secret])).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(censorText(`plain ${secret}`, [secret])).toBe(`plain ${CENSORED}`);
  });

  it('values under secret-named keys, at any depth, and nothing else', () => {
    const v = censorValue({ a: { apiKey: 'abc', list: [{ password: 'p' }] }, count: 3, name: 'ok' });
    expect(v).toEqual({ a: { apiKey: CENSORED, list: [{ password: CENSORED }] }, count: 3, name: 'ok' });
  });

  it('an argument list: the value after a secret flag, and a --flag=value', () => {
    const args = ['serve', '--token', 'T0K', '--api-key=K3Y', '--port', '80'];
    expect([...argSecrets(args).values()].sort()).toEqual(['K3Y', 'T0K']);
    expect(secretsOf({ env: { GITHUB_TOKEN: 'envtok', HOME: '/h' }, args })).toEqual(
      expect.arrayContaining(['envtok', 'T0K', 'K3Y']),
    );
  });
});
