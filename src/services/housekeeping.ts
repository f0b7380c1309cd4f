import type { Clock } from '../clock.js';
import type { Pool } from '../storage/database.js';
import { purgeOldAttempts } from '../storage/attemptsStore.js';
import { purgeFinishedDeliveries, purgeOldBufferedDeliveries } from '../storage/deliveriesStore.js';
import { purgeExpiredPayloads, purgeOldLaneSequences, purgeUnreferencedEvents } from '../storage/eventsStore.js';
import { purgeLoginFailures } from '../storage/loginFailuresStore.js';
import { purgePortalAccess } from '../storage/portalStore.js';
import type { BackgroundJob } from './jobSchedule.js';

export interface HousekeepingOptions {
  portalSessionMinutes: number;
  bufferRetentionDays: number;
  attemptRetentionDays: number;
  payloadRetentionDays: number;
  loginFailureWindowSeconds: number;
}

const day = 86_400_000;
const rowsPerStatement = 5000;

/**
 * Purges what nobody needs any more, in small statements, by one retention
 * model: buffered deliveries are given up after BUFFER_RETENTION_DAYS; a
 * finished delivery keeps its event's payload for PAYLOAD_RETENTION_DAYS and
 * its attempts for ATTEMPT_RETENTION_DAYS, and the delivery row itself lives
 * as long as the longer of the two, so support can look at it all that time;
 * an event row goes when no delivery refers to it any more.
 */
export class Housekeeping implements BackgroundJob {
  readonly name = 'housekeeping';
  readonly intervalMs = 600_000;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: HousekeepingOptions,
  ) {}

  run(): Promise<Record<string, number>> {
    return this.purge();
  }

  async purge(): Promise<Record<string, number>> {
    const now = this.clock.now();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const repeat = async (statement: () => Promise<number>) => {
      let total = 0;
      for (let n = await statement(); n > 0; n = await statement()) total += n;
      return total;
    };
    const { bufferRetentionDays, attemptRetentionDays, payloadRetentionDays } = this.options;
    // A finished delivery, and its lane's last sequence, are kept while its payload or its attempts are.
    const keptDays = Math.max(attemptRetentionDays, payloadRetentionDays);
    return {
      bufferedDiscarded: await purgeOldBufferedDeliveries(this.pool, ago(bufferRetentionDays * day), now),
      attemptsPurged: await repeat(() => purgeOldAttempts(this.pool, ago(attemptRetentionDays * day), rowsPerStatement)),
      payloadsPurged: await repeat(() => purgeExpiredPayloads(this.pool, ago(payloadRetentionDays * day), rowsPerStatement)),
      deliveriesPurged: await repeat(() => purgeFinishedDeliveries(this.pool, ago(keptDays * day), rowsPerStatement)),
      eventsPurged: await repeat(() => purgeUnreferencedEvents(this.pool, ago(payloadRetentionDays * day), rowsPerStatement)),
      laneSequencesPurged: await repeat(() => purgeOldLaneSequences(this.pool, ago(keptDays * day), rowsPerStatement)),
      loginFailuresPurged: await purgeLoginFailures(this.pool, ago(this.options.loginFailureWindowSeconds * 1000)),
      portalAccessPurged: await purgePortalAccess(this.pool, now, ago(this.options.portalSessionMinutes * 60_000)),
    };
  }
}
