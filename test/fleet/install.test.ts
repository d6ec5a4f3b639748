import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Why the registry cannot serve the install here (a visible skip), or undefined. */
function registryMissing(): string | undefined {
  const r = spawnSync(npm, ['ping'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0
    ? undefined
    : `the npm registry does not answer (npm ping: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]})`;
}

/** Installed packages (under `dir`) whose `engines.node` asks for more than Node 20: `name@version (>=22)`. */
function enginesAbove20(dir: string): string[] {
  const out: string[] = [];
  const walk = (modules: string) => {
    for (const name of readdirSync(modules, { withFileTypes: true })) {
      if (!name.isDirectory() || name.name.startsWith('.')) continue;
      if (name.name.startsWith('@')) walk(path.join(modules, name.name));
      else visit(path.join(modules, name.name));
    }
  };
  const visit = (pkgDir: string) => {
    const file = path.join(pkgDir, 'package.json');
    if (!existsSync(file)) return;
    const p = JSON.parse(readFileSync(file, 'utf8')) as {
      name?: string;
      version?: string;
      engines?: { node?: string };
    };
    const floor = /^\s*>=?\s*v?(\d+)/.exec(p.engines?.node ?? '')?.[1];
    if (floor && Number(floor) > 20) out.push(`${p.name}@${p.version} (${p.engines?.node})`);
    if (existsSync(path.join(pkgDir, 'node_modules'))) walk(path.join(pkgDir, 'node_modules'));
  };
  visit(dir);
  return out;
}

describe('install: a packed tarball, installed globally into a prefix (real npm, the real registry)', () => {
  const missing = registryMissing();
  it.skipIf(missing !== undefined)(
    `npm pack ships dist, docs and hooks; npm i -g --prefix installs a roosync-maint that runs${missing ? ` — SKIPPED: ${missing}` : ''}`,
    async () => {
      const dir = await tempDir('install');
      // dist/ is already built (the suite's global set-up): packing must not rebuild it under the other suites
      const packed = JSON.parse(
        execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
          cwd: ROOT,
          encoding: 'utf8',
        }),
      ) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      for (const f of [
        'dist/cli/main.js',
        'docs/manual.md',
        'hooks/roosync-maint-hook.sh',
        'README.md',
        'package.json',
      ])
        expect(files, f).toContain(f);
      expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);
      const prefix = path.join(dir, 'prefix');
      execFileSync(
        npm,
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          path.join(dir, packed[0]!.filename),
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // the shrinkwrap travels with the package: the tree installed is the one tested. One exception: the package's
      // own `overrides` (content-type 2.1.0 under @octokit/request) do not apply to an install as a dependency, so
      // npm takes content-type 3, which declares Node >= 22 but works on 20 (checked here by calling it)
      const installed = path.join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', pkg.name);
      expect(existsSync(installed)).toBe(true);
      expect(enginesAbove20(installed).filter((e) => !e.startsWith('content-type@3.'))).toEqual([]);
      const ct = path.join(installed, 'node_modules', '@octokit', 'request', 'node_modules', 'content-type');
      if (existsSync(ct)) {
        const { parse } = (await import(pathToFileURL(path.join(ct, 'dist', 'index.js')).href)) as {
          parse: (t: string) => { type: string; parameters: Record<string, string> };
        };
        expect(parse('application/json; charset=utf-8')).toMatchObject({ type: 'application/json' });
      }
      const bin =
        process.platform === 'win32'
          ? path.join(prefix, 'roosync-maint.cmd')
          : path.join(prefix, 'bin', 'roosync-maint');
      const env = { PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}`, HOME: dir };
      const version = spawnSync('roosync-maint', ['--version'], {
        env,
        encoding: 'utf8',
        shell: process.platform === 'win32',
      });
      expect(version.status, version.stderr).toBe(0);
      expect(version.stdout.trim()).toBe(pkg.version);
      // the main job runs from the installed package: a throw-away fleet, the whole story
      const demo = spawnSync('roosync-maint', ['demo'], { env, encoding: 'utf8', timeout: 300_000 });
      expect(demo.status, demo.stderr).toBe(0);
      expect(demo.stdout).toContain('roosync-maint status');
    },
  );
});
