/** How an attempt failed, as the notification and the metrics name it. */
export type FailureClass =
  | 'dns'
  | 'connection_refused'
  | 'connection_reset'
  | 'tls'
  | 'timeout'
  | 'redirect'
  | 'http_status'
  | 'target_not_allowed'
  | 'network';

export type AttemptOutcome =
  | { succeeded: true; statusCode: number; durationMs: number }
  | { succeeded: false; statusCode: number | null; failureClass: FailureClass; error: string; durationMs: number };

export interface RetryPolicy {
  retryScheduleSeconds: number[];
  deactivateAfterFailures: number;
}

export type FailedAttempt = Extract<AttemptOutcome, { succeeded: false }>;

/** What happens to a webhook after one attempt: data, no side effects. */
export type Decision = { kind: 'succeeded' } | FailureDecision;

export type FailureDecision =
  | { kind: 'retry'; failureCount: number; nextAttemptAt: Date }
  | { kind: 'deactivate'; failureCount: number; reason: 'failures' | 'gone' };

export function decideAfterAttempt(previousFailures: number, outcome: AttemptOutcome, now: Date, policy: RetryPolicy): Decision {
  return outcome.succeeded ? { kind: 'succeeded' } : decideAfterFailure(previousFailures, outcome, now, policy);
}

export function decideAfterFailure(previousFailures: number, outcome: FailedAttempt, now: Date, policy: RetryPolicy): FailureDecision {
  const failureCount = previousFailures + 1;
  // 410 Gone is the REST-hooks "unsubscribe": the receiver asks us to stop.
  if (outcome.statusCode === 410) return { kind: 'deactivate', failureCount, reason: 'gone' };
  if (failureCount >= policy.deactivateAfterFailures) return { kind: 'deactivate', failureCount, reason: 'failures' };
  const schedule = policy.retryScheduleSeconds;
  const waitSeconds = schedule[Math.min(failureCount - 1, schedule.length - 1)] ?? 0;
  return { kind: 'retry', failureCount, nextAttemptAt: new Date(now.getTime() + waitSeconds * 1000) };
}
