// The build: tsc compiles src/ to dist/ (the library, its types); then the CLI, dist/cli/main.js, is bundled with
// its dependencies into CommonJS chunks in dist/cli/. A scheduled tick starts a fresh node each time, and node's
// ES module loader costs milliseconds per module (and per built-in it wraps); one CommonJS bundle that loads only
// the chunks a command needs starts in a fraction of that (bench/results.md has the numbers).
// Run by `npm ci` (prepare), `npm run build`, `npm pack` (prepack) and the test suites' global set-up.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const cli = path.join(dist, 'cli');
const staged = path.join(dist, '.cli-bundle');

execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});

/** The modules main.js loads before it knows the command (the quiet tick's whole path): one chunk, read at start. */
function staticGraph(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm))
    staticGraph(path.resolve(path.dirname(file), m[1]), seen);
  return seen;
}
const entry = path.join(cli, 'main.js');
const start = staticGraph(entry);
start.delete(entry); // the entry stays the entry: it runs only when it is the process's main module

rmSync(staged, { recursive: true, force: true });
await build({
  input: { main: entry },
  platform: 'node',
  // the ES module build of a package where it has one (jsonc-parser's UMD build requires by computed paths)
  resolve: { mainFields: ['module', 'main'] },
  external: [/^node:/],
  // a warning here is a CLI that breaks at run time (an import.meta left empty, a require by computed path)
  onLog(level, log) {
    if (level !== 'debug') throw new Error(`bundling the CLI: ${log.code}: ${log.message}`);
  },
  output: {
    dir: staged,
    format: 'cjs',
    chunkFileNames: '[name]-[hash].js',
    codeSplitting: { groups: [{ name: 'start', test: (id) => start.has(id), priority: 1 }] },
  },
});
rmSync(cli, { recursive: true, force: true });
renameSync(staged, cli);
// the package is "type": "module"; these files are CommonJS
writeFileSync(path.join(cli, 'package.json'), '{ "type": "commonjs" }\n');

// the bundle must still know it is the program (a CLI that returns without running would exit 0 and say nothing)
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const said = execFileSync(process.execPath, [entry, '--version'], { encoding: 'utf8' }).trim();
if (said !== version) throw new Error(`the bundled CLI says "${said}" to --version, not ${version}`);
