import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Spawned-process tests run the real built CLI: build dist/ once (tsc, then the CLI bundle), as `npm ci` would. */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
