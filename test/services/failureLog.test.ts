import { expect } from 'chai';
import { logFailure } from '../../src/services/failureLog.js';
import { withConflictRetry } from '../../src/storage/database.js';
import { capturingLogger } from '../helpers/service.js';

const failure = (code: string) => Object.assign(new Error(code), { code });

/** What a failover may bring: conflicts that are retried and won say nothing; a missing database warns; the rest is an error. */
describe('failures of work that goes on', () => {
  it('says nothing of a conflict that a retry wins', async () => {
    let tries = 0;
    const answer = await withConflictRetry(async () => {
      tries += 1;
      if (tries < 3) throw failure('ER_LOCK_DEADLOCK');
      return 'done';
    });
    expect([answer, tries]).to.deep.equal(['done', 3]);
  });

  it('warns while the database is away, and logs an error for a conflict that outlasted its retries or anything else', () => {
    const { log, lines } = capturingLogger();
    logFailure(log, failure('ECONNREFUSED'), { worker: 'w' }, 'claiming failed; retrying');
    logFailure(log, failure('ER_LOCK_DEADLOCK'), { worker: 'w' }, 'claiming failed; retrying');
    logFailure(log, new Error('a bug'), { worker: 'w' }, 'renewing leases failed');
    expect(lines.map((line) => JSON.parse(line)).map(({ level, msg }) => [level, msg])).to.deep.equal([
      [40, 'claiming failed; retrying: the database is unavailable'],
      [50, 'claiming failed; retrying'],
      [50, 'renewing leases failed'],
    ]);
  });
});
