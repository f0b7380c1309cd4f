import { randomBytes } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome } from './domain/delivery.js';
import { isLoadAnswer } from './domain/pace.js';
import type { Observer } from './services/observer.js';
import type { QueueStats } from './storage/statsStore.js';

/** Where the queue's figures come from: the database, through the process's pool. */
export interface QueueSource {
  /** Answers when the process has a usable database node. */
  ping(): Promise<void>;
  /** Whether this process reports the queue now (one process at a time does). */
  claimReporter(processId: string, leaseMs: number): Promise<boolean>;
  read(): Promise<QueueStats>;
}

// A scrape never waits longer than this for the database: a node that holds
// statements (a donor) counts as unusable, and /metrics still answers.
const databaseWaitMs = 2000;
// The reporter's role outlasts a few of its scrapes at the usual 15 s; when
// its holder stops, another process reports within this long. A role that
// changes hands never counts twice: Prometheus marks the series that a
// process stopped exporting stale at its next scrape.
const reporterLeaseMs = 45_000;

/**
 * The Prometheus figures of one process (its own registry, so that tests can
 * run several services in one process). Counters count what this process did;
 * `webhooks_database_up` says whether this process reaches a usable node.
 * The queue's figures (due, waiting, the oldest due delivery, the outbox) are
 * global: they are read from the database at a scrape and exported by one
 * process at a time, the reporter, so that summing over processes counts them
 * once (in alerts and dashboards, max() and sum() give the same).
 */
export class Metrics implements Observer {
  readonly registry = new Registry();
  private readonly queueRegistry = new Registry();
  private readonly processId = randomBytes(8).toString('hex');
  private readonly calls = new Counter({
    name: 'webhooks_webservice_calls_total', help: 'Webservice calls by transport, function and error code',
    labelNames: ['transport', 'function', 'error'] as const, registers: [this.registry],
  });
  private readonly intakeAnswers = new Counter({
    name: 'webhooks_intake_requests_total', help: 'Event intake requests (POST /internal/events) by HTTP status',
    labelNames: ['code'] as const, registers: [this.registry],
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
  private readonly databaseUp = new Gauge({
    name: 'webhooks_database_up', help: 'Whether this process read from a usable database node at this scrape (1) or not within 2 s (0)', registers: [this.registry],
  });
  private readonly queueGauges: Array<[keyof QueueStats, Gauge]>;

  constructor(private readonly queue: QueueSource) {
    collectDefaultMetrics({ register: this.registry });
    const gauges: Array<[keyof QueueStats, string, string]> = [
      ['due', 'webhooks_due', 'Webhooks whose next delivery is due now'],
      ['waiting', 'webhooks_deliveries_pending', 'Deliveries waiting to be sent (due or backing off)'],
      ['buffered', 'webhooks_deliveries_buffered', 'Deliveries kept for deactivated webhooks'],
      ['outboxWaiting', 'webhooks_outbox_waiting', 'Outbox rows not yet taken in'],
      ['outboxRefused', 'webhooks_outbox_refused', 'Outbox rows refused, waiting for an operator'],
      ['notificationsPending', 'webhooks_notifications_pending', 'Notification e-mails not yet sent'],
      ['oldestUnclaimedSeconds', 'webhooks_oldest_unclaimed_seconds', 'How long the due webhook that no worker has claimed has waited'],
      ['oldestDueDeliverySeconds', 'webhooks_oldest_due_delivery_seconds', 'How long the oldest delivery that may go now has waited (lanes and endpoints backing off, and throttled webhooks, left out)'],
      ['oldestOutboxSeconds', 'webhooks_outbox_oldest_seconds', 'How long the oldest outbox row not yet taken in has waited'],
    ];
    this.queueGauges = gauges.map(([key, name, help]) => [key, new Gauge({ name, help, registers: [this.queueRegistry] })]);
  }

  /** The text for GET /metrics: this process's figures, and the queue's when this process reports it. */
  async text(): Promise<string> {
    const stats = await this.queueFigures();
    if (!stats) return this.registry.metrics();
    for (const [key, gauge] of this.queueGauges) gauge.set(stats[key]);
    return Registry.merge([this.registry, this.queueRegistry]).metrics();
  }

  /** Sets webhooks_database_up; the queue's figures when this process reports them now. */
  private async queueFigures(): Promise<QueueStats | undefined> {
    const reachable = await withinDatabaseWait(this.queue.ping()).then(() => true, () => false);
    this.databaseUp.set(reachable ? 1 : 0);
    if (!reachable) return undefined;
    // A failed claim or read (a conflict, a node lost just now) leaves the queue to the next scrape.
    const reporting = await withinDatabaseWait(this.queue.claimReporter(this.processId, reporterLeaseMs)).catch(() => false);
    return reporting ? withinDatabaseWait(this.queue.read()).catch(() => undefined) : undefined;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  intakeAnswered(status: number): void {
    this.intakeAnswers.inc({ code: String(status) });
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

  notification(result: 'sent' | 'stored' | 'failed'): void {
    this.notifications.inc({ result });
  }
}

function withinDatabaseWait<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the database did not answer in time')), databaseWaitMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
