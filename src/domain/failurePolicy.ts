import type { AttemptOutcome, FailedAttempt } from './delivery.js';

/**
 * The failure rules of the third release: a failure costs its own lane; an
 * endpoint that fails CIRCUIT_AFTER_FAILURES times in a row across lanes is
 * down, and then the whole webhook backs off and probes; deactivation counts
 * failed steps of the schedule, not parallel failures; a delivery that fails
 * DEACTIVATE_AFTER_FAILURES times in its own lane while the endpoint succeeds
 * elsewhere is given up. Pure: state and outcomes in, decisions out as data.
 */

export interface FailurePolicy {
  /** Seconds to wait after the 1st, 2nd, … failure; the last repeats. */
  retryScheduleSeconds: number[];
  deactivateAfterFailures: number;
  circuitAfterFailures: number;
  /** A warning goes out when a run of failed steps reaches this count; 0: never. */
  warnAfterFailures: number;
  /** Per webhook: a Zapier REST hook treats 410 Gone as its unsubscribe. */
  unsubscribeOnGone: boolean;
}

/** The endpoint's failure state, as the webhook row keeps it. */
export interface EndpointHealth {
  /** Failed steps in a row: a step lasts one schedule interval, and failures within it count once. */
  failedSteps: number;
  /** When the current failed step began; null while healthy. */
  stepStartedAt: Date | null;
  /** When the run of failed steps began (its first failure); null while healthy. */
  runStartedAt: Date | null;
  /** Failed attempts in a row across all lanes, with no success between. */
  failureStreak: number;
  /** The endpoint counts as down: the whole webhook backs off and sends one probe per step. */
  circuitOpen: boolean;
}

export const healthyEndpoint: EndpointHealth = { failedSteps: 0, stepStartedAt: null, runStartedAt: null, failureStreak: 0, circuitOpen: false };

/** One attempt of a round, in the order the attempts ended. */
export interface LaneAttempt {
  deliveryId: number;
  /** The delivery's failed attempts in its lane before this one. */
  laneFailures: number;
  endedAt: Date;
  outcome: AttemptOutcome;
}

export type LaneDecision =
  | { deliveryId: number; kind: 'retry'; failures: number; retryAt: Date }
  | { deliveryId: number; kind: 'give_up'; failures: number };

export type EndpointDecision =
  /** The circuit is closed: every lane that is not backing off flows. */
  | { kind: 'flowing' }
  /** The circuit is open: nothing before nextAttemptAt, then one probe. */
  | { kind: 'down'; nextAttemptAt: Date }
  | { kind: 'deactivate'; reason: 'failures' | 'gone' }
  | { kind: 'unsubscribe' };

export interface RoundDecision {
  endpoint: EndpointDecision;
  health: EndpointHealth;
  /** What becomes of each delivery that failed in its lane (a failure of the whole endpoint, 429, charges no lane). */
  lanes: LaneDecision[];
  /** The failure the webhook reports (410 Gone first, else the last); undefined when nothing failed. */
  failure: FailedAttempt | undefined;
  /** Runs of failures that began in this round. */
  runsStarted: number;
  /** A success closed an open circuit: every lane opens again. */
  reopened: boolean;
  /** The run of failures reached WARN_AFTER_FAILURES steps in this round. */
  warn: boolean;
}

export function isHealthy(health: EndpointHealth): boolean {
  return health.failedSteps === 0 && health.failureStreak === 0 && !health.circuitOpen;
}

/** Seconds to wait after the n-th failure in a row; the schedule's last step repeats. */
export function waitAfter(failures: number, schedule: number[]): number {
  return schedule[Math.min(Math.max(failures, 1) - 1, schedule.length - 1)] ?? 0;
}

/** A receiver that asks us to slow down speaks for its whole endpoint, not for one subscriber. */
function isEndpointWide(outcome: FailedAttempt): boolean {
  return outcome.statusCode === 429;
}

const after = (at: Date, seconds: number) => new Date(at.getTime() + seconds * 1000);

/** The endpoint's health after one more attempt. */
export function healthAfter(health: EndpointHealth, attempt: LaneAttempt, policy: FailurePolicy): EndpointHealth {
  const { outcome, endedAt } = attempt;
  if (outcome.succeeded) return healthyEndpoint;
  const newStep = !health.stepStartedAt || endedAt >= stepEndsAt(health, policy);
  const failureStreak = health.failureStreak + 1;
  return {
    failedSteps: newStep ? health.failedSteps + 1 : health.failedSteps,
    stepStartedAt: newStep ? endedAt : health.stepStartedAt,
    runStartedAt: health.runStartedAt ?? endedAt,
    failureStreak,
    circuitOpen: health.circuitOpen || failureStreak >= policy.circuitAfterFailures || isEndpointWide(outcome),
  };
}

/**
 * Whether a round may start another attempt after this outcome: not once the
 * endpoint counts as down (its circuit opens), nor after 410 Gone.
 */
export function endsRound(healthNow: EndpointHealth, outcome: AttemptOutcome): boolean {
  return !outcome.succeeded && (healthNow.circuitOpen || outcome.statusCode === 410);
}

/** What happens after a round: to the endpoint, and to each lane that failed. */
export function decideAfterRound(before: EndpointHealth, attempts: LaneAttempt[], now: Date, policy: FailurePolicy): RoundDecision {
  let health = before;
  let runsStarted = 0;
  let reopened = false;
  let warn = false;
  for (const attempt of attempts) {
    const next = healthAfter(health, attempt, policy);
    if (health.failedSteps === 0 && next.failedSteps > 0) runsStarted += 1;
    if (health.circuitOpen && !next.circuitOpen) reopened = true;
    if (next.failedSteps > health.failedSteps && next.failedSteps === policy.warnAfterFailures) warn = true;
    health = next;
  }
  const failures = attempts.filter((a): a is LaneAttempt & { outcome: FailedAttempt } => !a.outcome.succeeded);
  const failure = failures.find((a) => a.outcome.statusCode === 410)?.outcome ?? failures[failures.length - 1]?.outcome;
  const endpoint = endpointDecision(health, failure, now, policy, failures);
  const endsWebhook = endpoint.kind === 'deactivate' || endpoint.kind === 'unsubscribe';
  const lanes: LaneDecision[] = failures
    .filter((a) => !isEndpointWide(a.outcome))
    .map(({ deliveryId, laneFailures, endedAt }) => {
      const failures = laneFailures + 1;
      if (failures >= policy.deactivateAfterFailures && !endsWebhook) return { deliveryId, kind: 'give_up', failures };
      return { deliveryId, kind: 'retry', failures, retryAt: after(endedAt, waitAfter(failures, policy.retryScheduleSeconds)) };
    });
  return { endpoint, health, lanes, failure, runsStarted, reopened, warn: warn && !endsWebhook };
}

function endpointDecision(
  health: EndpointHealth,
  failure: FailedAttempt | undefined,
  now: Date,
  policy: FailurePolicy,
  failures: Array<{ outcome: FailedAttempt; endedAt: Date }>,
): EndpointDecision {
  // 410 Gone is the REST-hooks "unsubscribe": the receiver asks us to stop.
  if (failure?.statusCode === 410) return policy.unsubscribeOnGone ? { kind: 'unsubscribe' } : { kind: 'deactivate', reason: 'gone' };
  if (health.failedSteps >= policy.deactivateAfterFailures) return { kind: 'deactivate', reason: 'failures' };
  if (!health.circuitOpen) return { kind: 'flowing' };
  const stepEnds = stepEndsAt(health, policy);
  // A receiver's Retry-After is honoured up to the schedule's longest wait.
  const longest = Math.max(...policy.retryScheduleSeconds);
  const asked = failures.map((f) => f.outcome.retryAfterSeconds).filter((s): s is number => s !== undefined);
  const askedUntil = asked.length ? after(failures[failures.length - 1]!.endedAt, Math.min(Math.max(...asked), longest)) : now;
  return { kind: 'down', nextAttemptAt: new Date(Math.max(stepEnds.getTime(), askedUntil.getTime(), now.getTime())) };
}

/** When the current failed step ends: the earliest the endpoint is tried again as a whole. */
export function stepEndsAt(health: EndpointHealth, policy: Pick<FailurePolicy, 'retryScheduleSeconds'>): Date {
  return after(health.stepStartedAt ?? new Date(0), waitAfter(health.failedSteps, policy.retryScheduleSeconds));
}

/**
 * The latest moment a webhook with `failedSteps` failed steps so far (the
 * last one now) is deactivated if every further probe fails: the remaining
 * steps, each probe taking its whole deadline.
 */
export function latestDeactivationAt(failedSteps: number, now: Date, policy: Pick<FailurePolicy, 'retryScheduleSeconds' | 'deactivateAfterFailures'>, attemptMs: number): Date {
  let at = now.getTime();
  for (let steps = failedSteps; steps < policy.deactivateAfterFailures; steps += 1) at += waitAfter(steps, policy.retryScheduleSeconds) * 1000 + attemptMs;
  return new Date(at);
}
