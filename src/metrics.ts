import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome } from './domain/delivery.js';
import { isLoadAnswer } from './domain/pace.js';
import type { Observer } from './services/observer.js';
import type { QueueStats } from './storage/statsStore.js';

/**
 * The Prometheus figures of one process (its own registry, so that tests can
 * run several services in one process). Counters count what this process did;
 * the queue gauges are read from the database at each scrape, so every
 * process reports the same shared queue.
 */
export class Metrics implements Observer {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: 'webhooks_webservice_calls_total', help: 'Webservice calls by transport, function and error code',
    labelNames: ['transport', 'function', 'error'] as const, registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'webhooks_delivery_attempts_total', help: 'Delivery attempts by outcome and failure class',
    labelNames: ['outcome', 'failure_class'] as const, registers: [this.registry],
  });
  private readonly attemptDuration = new Histogram({
    name: 'webhooks_delivery_attempt_duration_seconds', help: 'Duration of delivery attempts',
    labelNames: ['outcome'] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  private readonly deactivations = new Counter({
    name: 'webhooks_deactivations_total', help: 'Webhooks deactivated, by reason', labelNames: ['reason'] as const, registers: [this.registry],
  });
  private readonly leases = new Counter({
    name: 'webhooks_worker_leases_total', help: 'Webhook leases taken by this process\'s workers', registers: [this.registry],
  });
  private readonly paceWaits = new Counter({
    name: 'webhooks_pace_waits_total', help: 'Times a round waited for the receiver\'s pace (window full, pause after a load answer, or maxPerSecond)', registers: [this.registry],
  });
  private readonly loadAnswers = new Counter({
    name: 'webhooks_load_answers_total', help: 'Attempts answered with a load signal (429, 502, 503, 504, refused or reset, timed out)', registers: [this.registry],
  });
  private readonly notifications = new Counter({
    name: 'webhooks_notifications_total', help: 'Notification e-mails by result', labelNames: ['result'] as const, registers: [this.registry],
  });

  constructor(readQueue: () => Promise<QueueStats>) {
    collectDefaultMetrics({ register: this.registry });
    const gauges: Array<[keyof QueueStats, string, string]> = [
      ['due', 'webhooks_due', 'Webhooks whose next delivery is due now'],
      ['waiting', 'webhooks_deliveries_pending', 'Deliveries waiting to be sent (due or backing off)'],
      ['buffered', 'webhooks_deliveries_buffered', 'Deliveries kept for deactivated webhooks'],
      ['outboxWaiting', 'webhooks_outbox_waiting', 'Outbox rows not yet taken in'],
      ['outboxRefused', 'webhooks_outbox_refused', 'Outbox rows refused, waiting for an operator'],
      ['notificationsPending', 'webhooks_notifications_pending', 'Notification e-mails not yet sent'],
    ];
    // One database read per scrape, shared by all gauges.
    let reading: Promise<QueueStats> | undefined;
    for (const [key, name, help] of gauges) {
      new Gauge({
        name, help, registers: [this.registry],
        async collect() {
          reading ??= readQueue().finally(() => setTimeout(() => (reading = undefined), 0));
          this.set((await reading)[key]);
        },
      });
    }
  }

  webserviceCall(transport: string, fn: string, error: number): void {
    this.calls.inc({ transport, function: fn, error: String(error) });
  }

  // Label lookups hash their labels on every call; the common case is looked up once.
  private readonly succeededAttempts = this.attempts.labels('succeeded', '');
  private readonly succeededDuration = this.attemptDuration.labels('succeeded');

  deliveryAttempt(outcome: AttemptOutcome): void {
    if (outcome.succeeded) {
      this.succeededAttempts.inc();
      this.succeededDuration.observe(outcome.durationMs / 1000);
      return;
    }
    this.attempts.inc({ outcome: 'failed', failure_class: outcome.failureClass });
    if (isLoadAnswer(outcome)) this.loadAnswers.inc();
    this.attemptDuration.observe({ outcome: 'failed' }, outcome.durationMs / 1000);
  }

  paceWaited(): void {
    this.paceWaits.inc();
  }

  webhookDeactivated(reason: string): void {
    this.deactivations.inc({ reason });
  }

  leasesTaken(count: number): void {
    this.leases.inc(count);
  }

  notification(sent: boolean): void {
    this.notifications.inc({ result: sent ? 'sent' : 'failed' });
  }
}
