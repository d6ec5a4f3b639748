import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { stateFile } from '../sharedState/localState.js';
import type { Observation, ObservationStore } from './elector.js';

const observationSchema = z.object({
  key: z.string(),
  since: z.number(),
  maxTerm: z.number(),
  lastSeen: z.number().optional(),
  observedMs: z.number().optional(),
  stepMs: z.number().optional(),
});

/** What this machine saw of the lease, in its local state folder (a corrupt file is moved aside and rebuilt). */
export function fileObservationStore(stateDir: string, log: Logger, readOnly = false): ObservationStore {
  const file = stateFile(path.join(stateDir, 'lease-observation.json'), observationSchema, log, () => undefined);
  return {
    load: (): Observation | undefined => file.load(),
    save: (o: Observation) => {
      if (!readOnly) file.save(o);
    },
  };
}
