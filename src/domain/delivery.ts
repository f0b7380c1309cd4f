/**
 * How an attempt failed, as the notification and the metrics name it. A
 * deadline that ran out names its phase: no connection yet (DNS, TCP, TLS), or
 * connected but no final answer (the request was not taken, or the answer's
 * headers never came; an endless stream of `102 Processing` is such a case).
 * Rows written before the phases were told apart say `timeout`.
 */
export type FailureClass =
  | 'dns'
  | 'connection_refused'
  | 'connection_reset'
  | 'tls'
  | 'connect_timeout'
  | 'response_timeout'
  | 'redirect'
  | 'http_status'
  | 'target_not_allowed'
  | 'network';

export type AttemptOutcome =
  | { succeeded: true; statusCode: number; durationMs: number }
  | { succeeded: false; statusCode: number | null; failureClass: FailureClass; error: string; durationMs: number };

/** Where a delivery stands: waiting to be sent, kept while its webhook is deactivated, or finished. */
export const deliveryStatuses = ['pending', 'buffered', 'delivered', 'discarded'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface RetryPolicy {
  retryScheduleSeconds: number[];
  deactivateAfterFailures: number;
}

export interface RoundPolicy extends RetryPolicy {
  /** A warning goes out when a run of failures reaches this count; 0: never. */
  warnAfterFailures: number;
  /** Per webhook: a Zapier REST hook treats 410 Gone as its unsubscribe. */
  unsubscribeOnGone: boolean;
}

export type FailedAttempt = Extract<AttemptOutcome, { succeeded: false }>;

/** What happens to a webhook after a round of attempts: data, no side effects. */
export type RoundDecision =
  | { kind: 'healthy'; resetFailures: boolean }
  | FailureDecision;

export type FailureDecision =
  | { kind: 'retry'; failureCount: number; nextAttemptAt: Date; failure: FailedAttempt; warn: boolean }
  | { kind: 'deactivate'; failureCount: number; reason: 'failures' | 'gone'; failure: FailedAttempt }
  | { kind: 'unsubscribe'; failureCount: number; failure: FailedAttempt };

/**
 * A round is what one lease sends before it records: up to
 * WEBHOOK_PARALLELISM attempts in flight, none started after the first
 * failure. However many of its parallel attempts fail, a round counts as one
 * failure of the webhook (they are one moment of one endpoint: eight refused
 * connections are one outage, not eight), and a success in the round resets
 * the count before that failure is added. 410 Gone anywhere in the round
 * deactivates at once. `outcomes` are in the order the attempts ended.
 */
export function decideAfterRound(previousFailures: number, outcomes: AttemptOutcome[], now: Date, policy: RoundPolicy): RoundDecision {
  const succeeded = outcomes.some((outcome) => outcome.succeeded);
  const failures = outcomes.filter((outcome): outcome is FailedAttempt => !outcome.succeeded);
  if (failures.length === 0) return { kind: 'healthy', resetFailures: succeeded };
  const failure = failures.find((f) => f.statusCode === 410) ?? failures[failures.length - 1]!;
  return decideAfterFailure(succeeded ? 0 : previousFailures, failure, now, policy);
}

function decideAfterFailure(previousFailures: number, failure: FailedAttempt, now: Date, policy: RoundPolicy): FailureDecision {
  const failureCount = previousFailures + 1;
  // 410 Gone is the REST-hooks "unsubscribe": the receiver asks us to stop.
  if (failure.statusCode === 410) return policy.unsubscribeOnGone ? { kind: 'unsubscribe', failureCount, failure } : { kind: 'deactivate', failureCount, reason: 'gone', failure };
  if (failureCount >= policy.deactivateAfterFailures) return { kind: 'deactivate', failureCount, reason: 'failures', failure };
  // Exactly at the threshold: once per run of failures, since a success starts the count anew.
  const warn = policy.warnAfterFailures > 0 && failureCount === policy.warnAfterFailures;
  return { kind: 'retry', failureCount, nextAttemptAt: new Date(now.getTime() + waitAfter(failureCount, policy) * 1000), failure, warn };
}

/** Seconds to wait after the n-th consecutive failure; the schedule's last step repeats. */
function waitAfter(failures: number, policy: RetryPolicy): number {
  const schedule = policy.retryScheduleSeconds;
  return schedule[Math.min(failures - 1, schedule.length - 1)] ?? 0;
}

/**
 * The latest moment a webhook with `failureCount` failures so far (the last
 * one now) is deactivated if every further attempt fails: the remaining
 * backoff steps, each attempt taking its whole deadline.
 */
export function latestDeactivationAt(failureCount: number, now: Date, policy: RetryPolicy, attemptMs: number): Date {
  let at = now.getTime();
  for (let failures = failureCount; failures < policy.deactivateAfterFailures; failures += 1) at += waitAfter(failures, policy) * 1000 + attemptMs;
  return new Date(at);
}
