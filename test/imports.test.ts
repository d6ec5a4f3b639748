import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Imports flow one way: cli → coordinator → tasks → domain folders → util (ARCHITECTURE.md). Measured on
 * the import graph of src/ (type imports included): no circle between files or folders, no import up a floor.
 */
const SRC = path.resolve(import.meta.dirname, '..', 'src');
const FLOORS: Record<string, number> = {
  util: 0,
  'errors.ts': 0,
  'log.ts': 0,
  config: 1,
  sharedState: 1,
  roosync: 1,
  retention: 1,
  health: 1,
  alerts: 1,
  git: 1,
  election: 1,
  report: 1,
  configBackup: 1,
  deps: 1,
  github: 1,
  testSuites: 1,
  rollout: 1,
  tasks: 2,
  coordinator: 3,
  setup: 4,
  demo: 4,
  'service.ts': 4,
  cli: 5,
  'index.ts': 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const unitOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;
const edges = sourceFiles(SRC).flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => ({
    from: file,
    to: path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts'),
  })),
);

describe('imports flow one way', () => {
  it('every top-level file and folder of src/ has a floor', () => {
    expect(readdirSync(SRC).filter((n) => FLOORS[n] === undefined)).toEqual([]);
  });

  it('no import runs up a floor', () => {
    const up = edges.filter((e) => FLOORS[unitOf(e.to)]! > FLOORS[unitOf(e.from)]!);
    expect(up.map((e) => `${path.relative(SRC, e.from)} → ${path.relative(SRC, e.to)}`)).toEqual([]);
  });

  it('no two folders import each other', () => {
    const pairs = new Set(edges.map((e) => `${unitOf(e.from)}→${unitOf(e.to)}`));
    const mutual = [...pairs].filter((p) => {
      const [a, b] = p.split('→');
      return a !== b && pairs.has(`${b}→${a}`);
    });
    expect(mutual).toEqual([]);
  });

  it('no circle between files', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) {
        if (state.get(to) === 'open')
          circles.push([...trail.slice(trail.indexOf(to)), to].map((f) => path.relative(SRC, f)).join(' → '));
        else if (!state.has(to)) visit(to, [...trail, to]);
      }
      state.set(file, 'done');
    };
    for (const file of next.keys()) if (!state.has(file)) visit(file, [file]);
    expect(circles).toEqual([]);
  });

  it('no source line is over 140 characters', () => {
    const long = sourceFiles(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 140 ? [`${path.relative(SRC, file)}:${i + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});

describe('one machine session, one git adapter, one process runner (issue 29)', () => {
  const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');
  const users = (pattern: RegExp) =>
    sourceFiles(SRC)
      .filter((f) => pattern.test(readFileSync(f, 'utf8')))
      .map(rel)
      .sort();

  it('node:child_process is imported only by the runner, the git adapter, the quiet tick and the demo', () => {
    const allowed = ['coordinator/quiet.ts', 'git/repo.ts', 'util/command.ts'];
    const outside = users(/from 'node:child_process'/).filter((f) => !allowed.includes(f) && !f.startsWith('demo/'));
    expect(outside).toEqual([]);
  });

  it('outside git/, only the session opens the clone', () => {
    const openers = users(/\b(openClone|GitRepo\.open)\(/).filter((f) => !f.startsWith('git/'));
    expect(openers).toEqual(['coordinator/session.ts']);
  });

  it('no raw git call outside git/: no git argv to the runner, no raw or plumbing call on the adapter', () => {
    const raw = users(/\.(raw|plumb)\(\[|\[\s*'git'\s*,|runCommand\(\s*\['git'/).filter((f) => !f.startsWith('git/'));
    expect(raw).toEqual([]);
  });

  it('set-up lives in setup/, not in coordinator/', () => {
    const setup = ['hooks.ts', 'osSchedule.ts', 'scheduleInstall.ts', 'doctor.ts', 'schedulers.ts'];
    expect(readdirSync(path.join(SRC, 'coordinator')).filter((f) => setup.includes(f))).toEqual([]);
  });
});

describe('the quiet tick loads nothing heavy', () => {
  /** Every module main.ts loads before it decides a tick is quiet: static, non-type imports, followed through. */
  function loadedBy(entry: string, seen = new Set<string>(), packages = new Set<string>()) {
    if (seen.has(entry)) return { seen, packages };
    seen.add(entry);
    const text = readFileSync(entry, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.'))
        loadedBy(path.resolve(path.dirname(entry), spec).replace(/\.js$/, '.ts'), seen, packages);
      else if (!spec.startsWith('node:')) packages.add(`${path.relative(SRC, entry)} → ${spec}`);
    }
    return { seen, packages };
  }
  it('cli/main.ts statically imports no third-party package, directly or through its modules', () => {
    const { seen, packages } = loadedBy(path.join(SRC, 'cli', 'main.ts'));
    expect([...packages]).toEqual([]);
    expect(seen.has(path.join(SRC, 'coordinator', 'quiet.ts'))).toBe(true);
    expect(seen.has(path.join(SRC, 'log.ts'))).toBe(false); // the logger comes after the quiet check
  });
});
