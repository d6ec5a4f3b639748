// The least a full tick loads: the four packages the project is built on, each used once as a tick uses it. The
// bench bundles this as the CLI is bundled (scripts/build.mjs) and times it (bench/fleet.mjs, partsFloor).
import lockfile from 'proper-lockfile';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { z } from 'zod';

const schema = z.object({ a: z.string(), b: z.number().optional(), c: z.array(z.object({ d: z.boolean() })) });
schema.parse({ a: 'x', c: [{ d: true }] });
pino(
  { level: 'info' },
  pino.destination({ dest: process.platform === 'win32' ? 'NUL' : '/dev/null', sync: true }),
).info('x');
simpleGit({ baseDir: process.cwd() });
if (typeof lockfile.lock !== 'function') process.exit(1);
