import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Spawned-process tests run the real built CLI: build dist/ once, as `npm ci` would. */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')],
    { stdio: 'inherit' },
  );
}
