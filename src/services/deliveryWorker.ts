import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { decideAfterAttempt, type AttemptOutcome, type Decision, type RetryPolicy } from '../domain/delivery.js';
import { messageIdOf, signPayload } from '../domain/signature.js';
import { inTransaction, type Pool } from '../storage/database.js';
import {
  claimDueWebhooks,
  countDeliveryAttempt,
  deactivateWebhook,
  holdsLease,
  insertAttempts,
  loadPendingDeliveries,
  markDeliveriesDelivered,
  releaseFailingWebhook,
  releaseHealthyWebhook,
  type AttemptRecord,
  type ClaimedWebhook,
  type PendingDelivery,
} from '../storage/deliveriesStore.js';
import { insertDeactivationNotification } from '../storage/notificationsStore.js';
import type { Sender } from '../transports/outbound/webhookSender.js';
import { Wakeup } from './wakeup.js';
import type { Observer } from './observer.js';

export interface DeliveryWorkerOptions extends RetryPolicy {
  leaseSeconds: number;
  pollIntervalMs: number;
  workerConcurrency: number;
  deliveryTimeoutMs: number;
}

/** Jobs the worker runs between claims: outbox, notifications, housekeeping. */
export interface BackgroundJob {
  name: string;
  run(): Promise<unknown>;
}

// Deliveries sent per webhook per claim: amortises the claim and the outcome
// transaction over many deliveries while keeping one webhook from hogging a lane.
const deliveriesPerClaim = 100;

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The delivery loop. Claims due webhooks with a lease (FOR UPDATE SKIP LOCKED),
 * sends each one's pending deliveries in event order outside any transaction,
 * and records the outcome only while it still holds the lease. Webhooks are the
 * unit of work, so one webhook never has two deliveries in flight and its
 * order holds across any number of workers.
 */
export class DeliveryWorker {
  readonly id: string;
  private readonly wakeup = new Wakeup();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly sender: Sender,
    private readonly log: Logger,
    private readonly observer: Observer,
    private readonly options: DeliveryWorkerOptions,
    private readonly jobs: BackgroundJob[] = [],
    id = newWorkerId(),
  ) {
    this.id = id;
  }

  /** New work may be due (an event came in, a webhook was activated). */
  notify(): void {
    this.wakeup.notify();
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops claiming, lets what is in flight finish and be recorded, then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.notify();
    await this.running;
    await Promise.all(this.inFlight);
  }

  /**
   * One pass for cron: background jobs, deliver until nothing is due now, then
   * the jobs again (so a deactivation of this pass is notified in this pass).
   * Returns the deliveries attempted.
   */
  async runOnce(): Promise<number> {
    await this.runJobs();
    let attempted = 0;
    for (;;) {
      const claimed = await this.claimAndStart((count) => (attempted += count));
      if (claimed === 0 && this.inFlight.size === 0) break;
      if (claimed === 0 || this.inFlight.size >= this.options.workerConcurrency) await Promise.race(this.inFlight);
    }
    await this.runJobs();
    return attempted;
  }

  private async loop(): Promise<void> {
    let lastJobs = 0;
    while (!this.stopping) {
      try {
        if (Date.now() - lastJobs >= 1000) {
          lastJobs = Date.now();
          await this.runJobs();
        }
        const claimed = this.inFlight.size < this.options.workerConcurrency ? await this.claimAndStart() : 0;
        if (claimed === 0) {
          // Sleep until the poll interval passes, new work is announced, or a lane frees up.
          await Promise.race([this.wakeup.wait(this.options.pollIntervalMs), ...this.inFlight]);
        }
      } catch (error) {
        this.log.error({ err: error, worker: this.id }, 'delivery loop failed; retrying');
        await this.wakeup.wait(Math.max(this.options.pollIntervalMs, 1000));
      }
    }
  }

  private async runJobs(): Promise<void> {
    for (const job of this.jobs) {
      try {
        await job.run();
      } catch (error) {
        this.log.error({ err: error, job: job.name }, 'background job failed');
      }
    }
  }

  private async claimAndStart(onAttempts: (count: number) => void = () => undefined): Promise<number> {
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.options.leaseSeconds * 1000);
    const free = this.options.workerConcurrency - this.inFlight.size;
    const claimed = await inTransaction(this.pool, (tx) => claimDueWebhooks(tx, this.id, now, leaseUntil, free));
    if (claimed.length === 0) return 0;
    this.observer.leasesTaken(claimed.length);
    const batches = await loadPendingDeliveries(this.pool, claimed.map((w) => w.id), deliveriesPerClaim);
    for (const webhook of claimed) {
      const task = this.deliverBatch(webhook, batches.get(webhook.id) ?? [], leaseUntil)
        .then(onAttempts)
        .catch((error) => this.log.error({ err: error, webhook: webhook.id, worker: this.id }, 'recording delivery outcomes failed'))
        .finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
    return claimed.length;
  }

  /** Sends in order until one fails, the lease runs short, or the worker stops; then records. */
  private async deliverBatch(webhook: ClaimedWebhook, deliveries: PendingDelivery[], leaseUntil: Date): Promise<number> {
    const attempts: AttemptRecord[] = [];
    const delivered: number[] = [];
    let failures = webhook.failureCount;
    let failed: { delivery: PendingDelivery; outcome: Extract<AttemptOutcome, { succeeded: false }>; decision: Exclude<Decision, { kind: 'succeeded' }>; at: Date } | undefined;

    for (const delivery of deliveries) {
      const now = this.clock.now();
      // Never start a request that could outlive the lease: another worker would send it again.
      if (this.stopping || leaseUntil.getTime() - now.getTime() < this.options.deliveryTimeoutMs + 1000) break;
      const outcome = await this.send(webhook, delivery, now);
      attempts.push({
        deliveryId: delivery.id, webhookId: webhook.id, attemptedAt: now, durationMs: outcome.durationMs,
        statusCode: outcome.statusCode, succeeded: outcome.succeeded,
        failureClass: outcome.succeeded ? null : outcome.failureClass, error: outcome.succeeded ? null : outcome.error, worker: this.id,
      });
      const decision = decideAfterAttempt(failures, outcome, now, this.options);
      this.observer.deliveryAttempt(outcome);
      this.log.info(
        {
          worker: this.id, webhook: webhook.id, delivery: delivery.id, event: delivery.event, status: outcome.statusCode,
          ms: Math.round(outcome.durationMs), decision: decision.kind,
          ...(outcome.succeeded ? {} : { failureClass: outcome.failureClass, error: outcome.error, failureCount: 'failureCount' in decision ? decision.failureCount : undefined }),
        },
        'delivery attempt',
      );
      if (decision.kind === 'succeeded' || outcome.succeeded) {
        // (outcome.succeeded is implied by the decision; stated for the type checker)
        failures = 0;
        delivered.push(delivery.id);
        continue;
      }
      failed = { delivery, outcome, decision, at: now };
      break;
    }

    await inTransaction(this.pool, async (tx) => {
      if (!(await holdsLease(tx, webhook.id, this.id))) {
        this.log.warn({ worker: this.id, webhook: webhook.id }, 'lease lost before recording; another worker took over');
        return;
      }
      const now = this.clock.now();
      await markDeliveriesDelivered(tx, delivered, now);
      await insertAttempts(tx, attempts);
      if (!failed) {
        await releaseHealthyWebhook(tx, webhook.id, delivered.length > 0, now);
        return;
      }
      await countDeliveryAttempt(tx, failed.delivery.id);
      if (delivered.length > 0) await releaseHealthyWebhook(tx, webhook.id, true, now);
      const failure = { failureCount: failed.decision.failureCount, lastError: failed.outcome.error, failedAt: failed.at };
      if (failed.decision.kind === 'retry') {
        await releaseFailingWebhook(tx, webhook.id, { ...failure, nextAttemptAt: failed.decision.nextAttemptAt });
        return;
      }
      const { deactivation, firstFailureAt } = await deactivateWebhook(tx, webhook.id, failure);
      await insertDeactivationNotification(
        tx,
        {
          accountId: webhook.accountId,
          webhookId: webhook.id,
          deactivation,
          details: {
            reason: failed.decision.reason,
            lastError: failed.outcome.error,
            failureClass: failed.outcome.failureClass,
            statusCode: failed.outcome.statusCode,
            failureCount: failed.decision.failureCount,
            firstFailureAt: firstFailureAt.toISOString(),
            deactivatedAt: failed.at.toISOString(),
          },
        },
        now,
      );
      this.observer.webhookDeactivated(failed.decision.reason);
      this.log.warn({ worker: this.id, webhook: webhook.id, deactivation, reason: failed.decision.reason, failureCount: failed.decision.failureCount }, 'webhook deactivated');
    });
    return attempts.length;
  }

  private send(webhook: ClaimedWebhook, delivery: PendingDelivery, now: Date): Promise<AttemptOutcome> {
    const timestamp = Math.floor(now.getTime() / 1000);
    const messageId = messageIdOf(delivery.id);
    return this.sender.send({
      url: webhook.url,
      body: delivery.payload,
      headers: {
        'webhook-id': messageId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signPayload(webhook.secret, messageId, timestamp, delivery.payload),
        'x-webhook-event': delivery.event,
      },
    });
  }
}
