import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../log.js';

/** Who is acting and with what: what every coordinator entry point (tick, lease, daemon) starts from. */
export interface MachineContext {
  sharedState: string;
  machineId: string;
  config: ResolvedConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  clock: () => number;
}
