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

/** `response`: the start of the receiver's answer body as text, when it sent one. */
export type AttemptOutcome =
  | { succeeded: true; statusCode: number; durationMs: number; response?: string }
  | { succeeded: false; statusCode: number | null; failureClass: FailureClass; error: string; durationMs: number; retryAfterSeconds?: number; response?: string };

/**
 * Where a delivery stands: waiting to be sent (or retried in its lane), kept
 * while its webhook is deactivated, or finished: delivered, discarded, or
 * failed (given up after its lane failed too often while the endpoint
 * succeeded elsewhere).
 */
export const deliveryStatuses = ['pending', 'buffered', 'delivered', 'discarded', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export type FailedAttempt = Extract<AttemptOutcome, { succeeded: false }>;
