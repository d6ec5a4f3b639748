// Runs one roosync-maint CLI invocation in this process and reports its peak RSS on fd 3.
import { writeSync } from 'node:fs';
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
writeSync(3, JSON.stringify({ code, maxRssKB: process.resourceUsage().maxRSS }));
process.exitCode = code;
