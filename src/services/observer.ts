import type { AttemptOutcome } from '../domain/delivery.js';

/**
 * What the services report as they work, for metrics. The services know only
 * this interface; src/metrics.ts turns it into Prometheus figures.
 */
export interface Observer {
  webserviceCall(transport: string, fn: string, error: number): void;
  /** Event intake answered with this HTTP status. */
  intakeAnswered(status: number): void;
  deliveryAttempt(outcome: AttemptOutcome): void;
  /** A round waited for the receiver's pace (its window was full, it paused after a load answer, or the throttle). */
  paceWaited(): void;
  webhookDeactivated(reason: string): void;
  leasesTaken(count: number): void;
  notification(result: 'sent' | 'stored' | 'failed'): void;
}

