import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TASK_GROUPS } from '../src/config/taskCatalogue.js';
import { EXIT } from '../src/cli/main.js';

const SCRIPT = path.resolve(import.meta.dirname, '..', 'hooks', 'maintain-roosync.ps1');
const text = readFileSync(SCRIPT, 'utf8');

/** The `@{ key = value }` table assigned to `$name`, as a map of its entries (comments dropped). */
function hashtable(name: string): Map<string, string> {
  const body = new RegExp(`\\$${name} = @\\{([^}]*)\\}`).exec(text)?.[1];
  if (body === undefined) throw new Error(`no $${name} table in ${SCRIPT}`);
  const entries = body
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((l) => /^'?([\w-]+)'?\s*=\s*'?([^']*?)'?$/.exec(l))
    .map((m) => {
      if (!m) throw new Error(`unreadable entry in $${name}`);
      return [m[1]!, m[2]!] as const;
    });
  return new Map(entries);
}

describe('hooks/maintain-roosync.ps1', () => {
  it('offers exactly -Task health|update|cleanup|all, each mapped to a roosync-maint task group', () => {
    const offered = /ValidateSet\(([^)]*)\)/
      .exec(text)?.[1]
      ?.match(/'([^']+)'/g)
      ?.map((s) => s.slice(1, -1));
    expect(offered).toEqual(['health', 'update', 'cleanup', 'all']);
    const groups = hashtable('Groups');
    expect([...groups.keys()]).toEqual(offered);
    for (const group of groups.values()) expect(Object.keys(TASK_GROUPS)).toContain(group);
    expect(text).toContain("$argv = @($cli, 'run', '--task', $Groups[$Task])");
    expect(text).toMatch(/if \(\$DryRun\) \{ \$argv \+= '--dry-run' \}/);
    expect(text).toMatch(/if \(\$Json\) \{ \$argv \+= '--json' \}/);
  });

  it('maps every exit code roosync-maint has: failures stay failures, busy is no failed schedule', () => {
    const codes = hashtable('ExitCodes');
    expect([...codes.keys()].map(Number).sort()).toEqual(Object.values(EXIT).sort());
    expect(codes.get(String(EXIT.ok))).toBe('0');
    expect(codes.get(String(EXIT.failed))).toBe('1');
    expect(codes.get(String(EXIT.usage))).toBe('2');
    expect(codes.get(String(EXIT.busy))).toBe('0');
    expect([...hashtable('Meanings').keys()]).toEqual([...codes.keys()]);
    expect(text).toMatch(/else \{ 1 \}/); // an unknown code is a failure
  });

  const pwsh = spawnSync('pwsh', ['-NoProfile', '-Command', '$PSVersionTable.PSVersion.Major'], { encoding: 'utf8' });
  it.skipIf(pwsh.status !== 0)('parses in PowerShell (skipped: no pwsh on this machine)', () => {
    const r = spawnSync(
      'pwsh',
      ['-NoProfile', '-Command', `$null = [ScriptBlock]::Create((Get-Content -Raw '${SCRIPT}')); 'ok'`],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('ok');
  });
});
