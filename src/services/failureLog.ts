import type { Logger } from '../logger.js';
import { isDatabaseAway } from '../storage/database.js';

/**
 * A failure of something that goes on (a claim, a lease renewal, a job): a
 * warning while the database is away, which a failover makes expected for a
 * few seconds; an error otherwise, a conflict that outlasted its retries included.
 */
export function logFailure(log: Logger, error: unknown, context: Record<string, unknown>, what: string): void {
  if (isDatabaseAway(error)) log.warn({ ...context, err: error }, `${what}: the database is unavailable`);
  else log.error({ ...context, err: error }, what);
}
