import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { unlessMissing, writeFileAtomic } from '../util/fs.js';

/**
 * This machine's approvals of fleet configs' powerful parts (`config trust`): hashes of content, kept in local
 * state, never in the shared state. A content approved once stays approved (a fleet that goes back to it needs
 * no new approval); anything else is a new content to approve.
 */

export const TRUST_FILE = 'trust.json';

/** Enough for a fleet's history of approved contents; the oldest approvals go first. */
const MAX_APPROVALS = 50;

const approvalSchema = z.object({
  hash: z.string(),
  approvedAt: z.string(),
  settings: z.array(z.string()),
});
const trustSchema = z.object({ approvals: z.array(approvalSchema) });
type TrustFile = z.output<typeof trustSchema>;

function readTrust(file: string): TrustFile {
  const text = unlessMissing(() => readFileSync(file, 'utf8'), undefined);
  if (text === undefined) return { approvals: [] };
  try {
    const parsed = trustSchema.safeParse(JSON.parse(text));
    // a damaged file approves nothing: the operator approves again
    return parsed.success ? parsed.data : { approvals: [] };
  } catch {
    return { approvals: [] };
  }
}

export function readApprovals(file: string): string[] {
  return readTrust(file).approvals.map((a) => a.hash);
}

/** Records one approval (its hash, when, and the settings as they were shown). */
export function recordApproval(file: string, hash: string, settings: string[], now: number): void {
  const approvals = readTrust(file).approvals.filter((a) => a.hash !== hash);
  approvals.push({ hash, approvedAt: new Date(now).toISOString(), settings });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify({ approvals: approvals.slice(-MAX_APPROVALS) }, null, 2)}\n`);
}

/** Forgets every approval (`config trust --revoke`). */
export function revokeApprovals(file: string): number {
  const n = readTrust(file).approvals.length;
  if (n > 0) writeFileAtomic(file, `${JSON.stringify({ approvals: [] }, null, 2)}\n`);
  return n;
}
