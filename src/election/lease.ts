import { createHash } from 'node:crypto';
import { z } from 'zod';

/** `maintenance/leader.json`, the only file machines contend for (design.md §7). */
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

export type LeaseRead = { kind: 'missing' } | { kind: 'ok'; record: LeaseRecord } | { kind: 'corrupt'; reason: string; fingerprint: string };

export const LEASE_FILE = 'maintenance/leader.json';

/** A lease file as found: missing, a valid record, or corrupt (hand-edited, half-merged, garbage) — never a throw. */
export function parseLease(text: string | undefined): LeaseRead {
  if (text === undefined) return { kind: 'missing' };
  const fingerprint = createHash('sha1').update(text).digest('hex').slice(0, 12);
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { kind: 'corrupt', reason: `not JSON (${err instanceof Error ? err.message : String(err)})`, fingerprint };
  }
  const parsed = leaseSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'corrupt', reason: `${issue.path.join('.') || '(top level)'}: ${issue.message}`, fingerprint };
  }
  return { kind: 'ok', record: parsed.data };
}

export function serializeLease(record: LeaseRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
