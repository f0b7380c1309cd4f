import type { Clock } from '../clock.js';
import type { Pool } from '../storage/database.js';
import { purgeOldAttempts } from '../storage/attemptsStore.js';
import { purgeFinishedDeliveries, purgeOldBufferedDeliveries } from '../storage/deliveriesStore.js';
import { purgeFinishedEvents } from '../storage/eventsStore.js';
import { purgeLoginFailures } from '../storage/loginFailuresStore.js';
import type { BackgroundJob } from './jobSchedule.js';

export interface HousekeepingOptions {
  bufferRetentionDays: number;
  attemptRetentionDays: number;
  loginFailureWindowSeconds: number;
}

const day = 86_400_000;
// A payload is kept this long after every delivery of it finished, so that
// support can still look at a just-delivered event.
const finishedPayloadGraceMs = 3_600_000;
const rowsPerStatement = 5000;

/** Purges what nobody needs any more, at most once per interval, in small statements. */
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
    return {
      bufferedDiscarded: await purgeOldBufferedDeliveries(this.pool, ago(this.options.bufferRetentionDays * day), now),
      deliveriesPurged: await repeat(() => purgeFinishedDeliveries(this.pool, ago(this.options.attemptRetentionDays * day), rowsPerStatement)),
      attemptsPurged: await repeat(() => purgeOldAttempts(this.pool, ago(this.options.attemptRetentionDays * day), rowsPerStatement)),
      eventsPurged: await repeat(() => purgeFinishedEvents(this.pool, ago(finishedPayloadGraceMs), rowsPerStatement)),
      loginFailuresPurged: await purgeLoginFailures(this.pool, ago(this.options.loginFailureWindowSeconds * 1000)),
    };
  }
}
