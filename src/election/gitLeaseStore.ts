import { GitFailure } from '../git/classify.js';
import type { GitRepo } from '../git/repo.js';
import { LEASE_FILE, readLeaseFile, writeLeaseFile, type LeaseRead, type LeaseRecord } from './lease.js';
import type { LeaseStore, WriteOutcome } from './elector.js';

/**
 * The lease in git: read from the synced work tree; written as a commit of the lease alone,
 * pushed; the remote's answer decides. A write that does not land is undone locally (the
 * lease commit dropped, the clone brought back onto the remote) so no stale claim is left to
 * be pushed later.
 */
export class GitLeaseStore implements LeaseStore {
  constructor(
    private readonly repo: GitRepo,
    private readonly sharedState: string,
    private readonly resync: () => Promise<void>,
  ) {}

  async read(): Promise<LeaseRead> {
    return readLeaseFile(this.sharedState);
  }

  async write(record: LeaseRecord): Promise<WriteOutcome> {
    const before = await this.repo.head();
    writeLeaseFile(this.sharedState, record);
    const verb = record.released ? 'releases' : 'holds';
    await this.repo.commitPaths(
      [this.repo.inRepo(LEASE_FILE)],
      `maintenance: ${record.holder} ${verb} the lease (term ${record.term})`,
    );
    try {
      await this.repo.push();
      return 'landed';
    } catch (err) {
      if (!(err instanceof GitFailure)) throw err;
      if (before) await this.repo.dropLocalCommits(before, [this.repo.inRepo(LEASE_FILE)]);
      if (err.kind === 'lost-race') {
        await this.resync();
        return 'lost';
      }
      return 'unreachable';
    }
  }
}
