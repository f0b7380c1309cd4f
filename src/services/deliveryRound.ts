import type { AttemptOutcome } from '../domain/delivery.js';
import { SubscriberLanes } from '../domain/subscriberLanes.js';
import type { PendingDelivery } from '../storage/deliveriesStore.js';

export interface RoundAttempt {
  delivery: PendingDelivery;
  attemptedAt: Date;
  endedAt: Date;
  outcome: AttemptOutcome;
  /** Refused for load while the endpoint takes requests: a pace signal that costs the delivery nothing; it went again. */
  paced: boolean;
}

/** The receiver's pace, as the round sees it. */
export interface RoundPace {
  /** 0: another attempt may start now; a number: ms until one may; null: when an attempt in flight ends. */
  waitMs(): number | null;
  /** Calls `wake` once when an attempt in flight (of any round on the same origin) ends or a pause is over. */
  whenRoom(wake: () => void): void;
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
  pace: RoundPace;
  send(delivery: PendingDelivery, attemptedAt: Date): Promise<{ outcome: AttemptOutcome; paced: boolean }>;
}

/**
 * Sends one round of a leased webhook's deliveries: per subscriber one at a
 * time in event order, different subscribers in parallel. A failure closes
 * its own lane for the round; the others go on once an attempt succeeds
 * after it (until then nothing new starts, so that an endpoint that is down
 * gets no more than the attempts already in flight), and an outcome may end
 * the round (what is in flight then ends by its deadline). Resolves with the
 * attempts in the order they ended. Nothing starts beyond the receiver's
 * pace: the round waits for it, and a delivery refused for load goes again
 * first once the pace allows.
 */
export function sendRound(round: Round): Promise<RoundAttempt[]> {
  const lanes = new SubscriberLanes(round.deliveries);
  const attempts: RoundAttempt[] = [];
  let inFlight = 0;
  let extraSlots = 0;
  let ended = false;
  let succeeded = false;
  let lastFailed = false;
  let waitingForPace = false;
  return new Promise((resolve) => {
    const limit = () => (round.probing && !succeeded ? 1 : round.parallelism);
    const wake = () => {
      waitingForPace = false;
      pump();
    };
    // Whether the pace lets an attempt start now; if not, the round is woken when it may.
    const paceAllows = () => {
      if (waitingForPace) return false;
      const wait = round.pace.waitMs();
      if (wait === 0) return true;
      waitingForPace = true;
      if (wait === null) round.pace.whenRoom(wake);
      else setTimeout(wake, wait);
      return false;
    };
    const pump = () => {
      // The pace is asked last: a round queued for it is woken by every answer of its origin, so only
      // a round that has a lane free and a slot for it queues.
      while (!ended && !lastFailed && inFlight < limit() && round.mayStart() && lanes.hasStartable()) {
        const extra = inFlight > 0;
        if (extra && !round.takeExtraSlot()) break;
        if (!paceAllows()) {
          if (extra) round.giveExtraSlot();
          break;
        }
        const delivery = lanes.next()!;
        if (extra) extraSlots += 1;
        inFlight += 1;
        const attemptedAt = round.now();
        round.send(delivery, attemptedAt).then(({ outcome, paced }) => {
          const attempt = { delivery, attemptedAt, endedAt: round.now(), outcome, paced };
          attempts.push(attempt);
          if (paced) {
            lanes.requeue(delivery);
          } else {
            lanes.finished(delivery, outcome.succeeded);
            if (outcome.succeeded) succeeded = true;
            lastFailed = !outcome.succeeded;
            if (round.endsRound(attempt)) ended = true;
          }
          inFlight -= 1;
          if (extraSlots > 0) {
            extraSlots -= 1;
            round.giveExtraSlot();
          }
          pump();
        });
      }
      // While the pace holds the round back, it is not over: a wake-up pumps again.
      if (inFlight === 0 && !(waitingForPace && !ended && !lastFailed && round.mayStart())) resolve(attempts);
    };
    pump();
  });
}
