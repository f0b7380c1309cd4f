import type { AttemptOutcome } from '../domain/delivery.js';
import { SubscriberLanes } from '../domain/subscriberLanes.js';
import type { PendingDelivery } from '../storage/deliveriesStore.js';

export interface RoundAttempt {
  delivery: PendingDelivery;
  attemptedAt: Date;
  endedAt: Date;
  outcome: AttemptOutcome;
}

export interface Round {
  deliveries: PendingDelivery[];
  /** Attempts of this webhook in flight at once, each for a different subscriber. */
  parallelism: number;
  /** The endpoint failed last (or is down): one attempt goes alone first; the lanes open after it succeeds. */
  probing: boolean;
  /** Whether nothing more may start after this attempt (the endpoint now counts as down, or asked to be left alone). */
  endsRound(attempt: RoundAttempt): boolean;
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
 * time in event order, different subscribers in parallel. A failure closes
 * its own lane for the round; the others go on once an attempt succeeds
 * after it (until then nothing new starts, so that an endpoint that is down
 * gets no more than the attempts already in flight), and an outcome may end
 * the round (what is in flight then ends by its deadline). Resolves with the
 * attempts in the order they ended.
 */
export function sendRound(round: Round): Promise<RoundAttempt[]> {
  const lanes = new SubscriberLanes(round.deliveries);
  const attempts: RoundAttempt[] = [];
  let inFlight = 0;
  let extraSlots = 0;
  let ended = false;
  let succeeded = false;
  let lastFailed = false;
  return new Promise((resolve) => {
    const limit = () => (round.probing && !succeeded ? 1 : round.parallelism);
    const pump = () => {
      while (!ended && !lastFailed && inFlight < limit() && round.mayStart()) {
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
          const attempt = { delivery, attemptedAt, endedAt: round.now(), outcome };
          attempts.push(attempt);
          lanes.finished(delivery, outcome.succeeded);
          if (outcome.succeeded) succeeded = true;
          lastFailed = !outcome.succeeded;
          if (round.endsRound(attempt)) ended = true;
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
