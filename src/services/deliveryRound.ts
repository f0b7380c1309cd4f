import type { AttemptOutcome } from '../domain/delivery.js';
import { SubscriberLanes } from '../domain/subscriberLanes.js';
import type { PendingDelivery } from '../storage/deliveriesStore.js';

export interface RoundAttempt {
  delivery: PendingDelivery;
  attemptedAt: Date;
  outcome: AttemptOutcome;
}

export interface Round {
  deliveries: PendingDelivery[];
  /** Attempts of this webhook in flight at once, each for a different subscriber. */
  parallelism: number;
  /** The webhook has been failing: one attempt goes alone first; the lanes open after it succeeds. */
  probing: boolean;
  /** Whether another attempt may start now (the worker is not stopping, the lease outlasts its deadline). */
  mayStart(): boolean;
  /** A slot for a second, third, … attempt in flight; the first uses the lease's own. */
  takeExtraSlot(): boolean;
  giveExtraSlot(): void;
  now(): Date;
  send(delivery: PendingDelivery, attemptedAt: Date): Promise<AttemptOutcome>;
}

/**
 * Sends one round of a leased webhook's deliveries: per subscriber one at a
 * time in event order, different subscribers in parallel; after the first
 * failure nothing new starts (what is in flight ends by its deadline).
 * Resolves with the attempts in the order they ended.
 */
export function sendRound(round: Round): Promise<RoundAttempt[]> {
  const lanes = new SubscriberLanes(round.deliveries);
  const attempts: RoundAttempt[] = [];
  let inFlight = 0;
  let extraSlots = 0;
  let failed = false;
  let succeeded = false;
  return new Promise((resolve) => {
    const limit = () => (round.probing && !succeeded ? 1 : round.parallelism);
    const pump = () => {
      while (!failed && inFlight < limit() && round.mayStart()) {
        const extra = inFlight > 0;
        if (extra && !round.takeExtraSlot()) break;
        const delivery = lanes.next();
        if (!delivery) {
          if (extra) round.giveExtraSlot();
          break;
        }
        if (extra) extraSlots += 1;
        inFlight += 1;
        const attemptedAt = round.now();
        round.send(delivery, attemptedAt).then((outcome) => {
          attempts.push({ delivery, attemptedAt, outcome });
          lanes.finished(delivery, outcome.succeeded);
          if (outcome.succeeded) succeeded = true;
          else failed = true;
          inFlight -= 1;
          if (extraSlots > 0) {
            extraSlots -= 1;
            round.giveExtraSlot();
          }
          pump();
        });
      }
      if (inFlight === 0) resolve(attempts);
    };
    pump();
  });
}
