// The quiet tick and the full tick with nothing due, in CPU, against their floor (node -e 0; git fetch; git status),
// alone: `node bench/idle.mjs [dir] [rounds]` (npm run bench has the same rows among the others).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { idleTickAndHook } from './fleet.mjs';

const dir = process.argv[2] ?? (await mkdtemp(path.join(os.tmpdir(), 'roosync-maint-idle-')));
const r = await idleTickAndHook(dir, Number(process.argv[3] ?? 7));
const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
console.log(
  `quiet tick ${ms(r.quietCpu)}, floor ${ms(r.floorCpu)}: ${(r.quietCpu / r.floorCpu).toFixed(2)}× (target 1.5×)`,
);
console.log(`full tick ${ms(r.fullCpu)}: ${(r.fullCpu / r.floorCpu).toFixed(2)}× the floor (target 3×)`);
console.log(
  `unbundled build: quiet ${ms(r.plainQuietCpu)}, full ${ms(r.plainFullCpu)} (bundle / unbundled: ` +
    `${(r.quietCpu / r.plainQuietCpu).toFixed(2)}×, ${(r.fullCpu / r.plainFullCpu).toFixed(2)}×)`,
);
