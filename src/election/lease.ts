import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errorCode } from '../errors.js';
import { writeFileAtomic, ensureRealDir } from '../util/fs.js';
import { parseUntrusted } from '../util/untrustedJson.js';

/** `maintenance/leader.json`, the only file machines contend for (docs/design.md, "The election"). */
export const leaseSchema = z.object({
  holder: z.string().min(1),
  term: z.number().int().min(1),
  acquiredAt: z.iso.datetime(),
  renewedAt: z.iso.datetime(),
  leaseSeconds: z.number().int().min(1),
  transitions: z.number().int().min(0),
  released: z.boolean(),
  /** +1 on every renewal: a fleet commit always changes the lease, so the fence can see it even when two renewals carry the same time. */
  renewals: z.number().int().min(0).default(0),
});
export type LeaseRecord = z.output<typeof leaseSchema>;

export type LeaseRead =
  | { kind: 'missing' }
  | { kind: 'ok'; record: LeaseRecord }
  | { kind: 'corrupt'; reason: string; fingerprint: string };

export const LEASE_FILE = 'maintenance/leader.json';

/** A lease file as found: missing, a valid record, or corrupt (hand-edited, half-merged, garbage) — never a throw. */
export function parseLease(text: string | undefined): LeaseRead {
  if (text === undefined) return { kind: 'missing' };
  const fingerprint = createHash('sha1').update(text).digest('hex').slice(0, 12);
  const parsed = parseUntrusted(text, leaseSchema);
  if (!parsed.ok) return { kind: 'corrupt', reason: parsed.reason, fingerprint };
  return { kind: 'ok', record: parsed.value };
}

export function serializeLease(record: LeaseRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** The lease file in this clone's work tree (written atomically; never a half-written lease for a reader). */
export function writeLeaseFile(sharedState: string, record: LeaseRecord): void {
  const file = path.join(sharedState, LEASE_FILE);
  ensureRealDir(sharedState, path.dirname(file));
  writeFileAtomic(file, serializeLease(record));
}

export function readLeaseFile(sharedState: string): LeaseRead {
  let text: string | undefined;
  try {
    text = readFileSync(path.join(sharedState, LEASE_FILE), 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') return parseLease(undefined);
    // a folder or an unreadable file in its place: corrupt, judged like any damaged lease
    text = `<unreadable lease: ${code ?? String(err)}>`;
  }
  return parseLease(text);
}
