import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { decideAfterFailure, type AttemptOutcome, type FailedAttempt, type FailureDecision, type RetryPolicy } from '../domain/delivery.js';
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

interface SentBatch {
  attempts: AttemptRecord[];
  delivered: number[];
  failed: { delivery: PendingDelivery; outcome: FailedAttempt; decision: FailureDecision; at: Date } | undefined;
}

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

  /** One claimed webhook: send in order, then record. Returns the attempts made. */
  private async deliverBatch(webhook: ClaimedWebhook, deliveries: PendingDelivery[], leaseUntil: Date): Promise<number> {
    const batch = await this.sendInOrder(webhook, deliveries, leaseUntil);
    const deactivated = await this.record(webhook, batch);
    if (deactivated && batch.failed) {
      this.observer.webhookDeactivated(deactivated.reason);
      this.log.warn({ worker: this.id, webhook: webhook.id, deactivation: deactivated.deactivation, reason: deactivated.reason, failureCount: batch.failed.decision.failureCount }, 'webhook deactivated');
    }
    return batch.attempts.length;
  }

  /** Sends until one fails, the lease runs short, or the worker stops. */
  private async sendInOrder(webhook: ClaimedWebhook, deliveries: PendingDelivery[], leaseUntil: Date): Promise<SentBatch> {
    const batch: SentBatch = { attempts: [], delivered: [], failed: undefined };
    let failures = webhook.failureCount;
    for (const delivery of deliveries) {
      const now = this.clock.now();
      // Never start a request that could outlive the lease: another worker would send it again.
      if (this.stopping || leaseUntil.getTime() - now.getTime() < this.options.deliveryTimeoutMs + 1000) break;
      const outcome = await this.send(webhook, delivery, now);
      this.observer.deliveryAttempt(outcome);
      batch.attempts.push({
        deliveryId: delivery.id, webhookId: webhook.id, attemptedAt: now, durationMs: outcome.durationMs, statusCode: outcome.statusCode,
        succeeded: outcome.succeeded, failureClass: outcome.succeeded ? null : outcome.failureClass, error: outcome.succeeded ? null : outcome.error,
        worker: this.id,
      });
      const line = { worker: this.id, webhook: webhook.id, delivery: delivery.id, event: delivery.event, status: outcome.statusCode, ms: Math.round(outcome.durationMs) };
      if (outcome.succeeded) {
        this.log.info({ ...line, decision: 'succeeded' }, 'delivery attempt');
        failures = 0;
        batch.delivered.push(delivery.id);
        continue;
      }
      const decision = decideAfterFailure(failures, outcome, now, this.options);
      this.log.info({ ...line, decision: decision.kind, failureClass: outcome.failureClass, error: outcome.error, failureCount: decision.failureCount }, 'delivery attempt');
      batch.failed = { delivery, outcome, decision, at: now };
      break;
    }
    return batch;
  }

  /**
   * Records a batch in one transaction, only while this worker holds the
   * webhook's lease. Returns the deactivation when the batch caused one.
   */
  private record(webhook: ClaimedWebhook, batch: SentBatch): Promise<{ deactivation: number; reason: string } | undefined> {
    return inTransaction(this.pool, async (tx) => {
      if (!(await holdsLease(tx, webhook.id, this.id))) {
        this.log.warn({ worker: this.id, webhook: webhook.id }, 'lease lost before recording; another worker took over');
        return undefined;
      }
      const now = this.clock.now();
      await markDeliveriesDelivered(tx, batch.delivered, now);
      await insertAttempts(tx, batch.attempts);
      const { failed } = batch;
      if (!failed) {
        await releaseHealthyWebhook(tx, webhook.id, batch.delivered.length > 0, now);
        return undefined;
      }
      await countDeliveryAttempt(tx, failed.delivery.id);
      const failure = { failureCount: failed.decision.failureCount, lastError: failed.outcome.error, failedAt: failed.at };
      if (failed.decision.kind === 'retry') {
        await releaseFailingWebhook(tx, webhook.id, { ...failure, nextAttemptAt: failed.decision.nextAttemptAt });
        return undefined;
      }
      const { deactivation, firstFailureAt } = await deactivateWebhook(tx, webhook.id, failure);
      const details = {
        reason: failed.decision.reason,
        lastError: failed.outcome.error,
        failureClass: failed.outcome.failureClass,
        statusCode: failed.outcome.statusCode,
        failureCount: failed.decision.failureCount,
        firstFailureAt: firstFailureAt.toISOString(),
        deactivatedAt: failed.at.toISOString(),
      };
      await insertDeactivationNotification(tx, { accountId: webhook.accountId, webhookId: webhook.id, deactivation, details }, now);
      return { deactivation, reason: failed.decision.reason };
    });
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
