import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This package's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}

/** The built CLI entry point (what schedulers, hooks and the demo start), whether this code runs from dist/ or, in tests, from src/. */
export function builtCliPath(): string {
  return fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
}
