// The quiet tick and the full tick with nothing due, in CPU, against their floor (node -e 0; git fetch; git status),
// alone: `node bench/idle.mjs [dir] [rounds]` (npm run bench has the same rows among the others).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { idleTickAndHook } from './fleet.mjs';
import { helpAndStart } from './memory.mjs';

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
const parts = r.packagesCpu + r.gitCpu;
console.log(
  `least any full tick can cost: ${ms(parts)} = ${(parts / r.floorCpu).toFixed(2)}× the floor ` +
    `(node + the four required packages ${ms(r.packagesCpu)}, the git calls ${ms(r.gitCpu)})`,
);
const help = helpAndStart(11, r.plainBin);
console.log(
  `--help ${help.helpMs.toFixed(0)} ms, node -e 0 ${help.nodeMs.toFixed(0)} ms: ${(help.helpMs / help.nodeMs).toFixed(2)}× ` +
    `(target 2×); unbundled build ${help.plainHelpMs.toFixed(0)} ms`,
);
