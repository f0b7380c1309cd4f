import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { AttemptOutcome } from '../domain/delivery.js';
import {
  decideAfterRound,
  endsRound,
  healthAfter,
  isHealthy,
  latestDeactivationAt,
  stepEndsAt,
  type FailurePolicy,
  type LaneAttempt,
  type RoundDecision,
} from '../domain/failurePolicy.js';
import { erasedText } from '../domain/event.js';
import { messageIdOf, sequenceHeaders, signedHeaders, signingKeys } from '../domain/signature.js';
import { withCustomHeaders, type CustomHeader } from '../domain/customHeaders.js';
import { insertAttempts, recentAttempts } from '../storage/attemptsStore.js';
import { inTransaction, isDatabaseAway, type Pool, type PoolConnection, type Queryable } from '../storage/database.js';
import {
  backOffLane,
  bufferPendingDeliveries,
  countFailedAttempts,
  deliveryExists,
  giveUpDeliveries,
  loadPendingDeliveries,
  markDeliveriesDelivered,
  reopenLanes,
  type PendingDelivery,
} from '../storage/deliveriesStore.js';
import { insertNotification, queueGivenUpNotice } from '../storage/notificationsStore.js';
import {
  anyWebhookClaimable,
  backOffWebhook,
  currentFailureRun,
  deactivateWebhook,
  deleteUnsubscribedWebhook,
  extendLeaseIfMoreWaits,
  handBackLease,
  lockLeasedWebhook,
  leaseWebhooks,
  newLease,
  noteLaneRetry,
  recordEndpointHealth,
  releaseWebhook,
  renewLeases,
  selectBackingOffLanes,
  selectClaimableWebhooks,
  type BackingOffLanes,
  type ClaimedWebhook,
  type Lease,
} from '../storage/webhookLifecycleStore.js';
import { sendRound, type RoundAttempt } from './deliveryRound.js';
import { OriginPaces, WebhookPace } from './pace.js';
import type { DirectDelivery } from './eventIntake.js';
import type { JobSchedule } from './jobSchedule.js';
import { logFailure } from './failureLog.js';
import type { Observer } from './observer.js';
import type { Sender } from './ports.js';
import { Slots } from './slots.js';
import { Wakeup } from './wakeup.js';

export interface DeliveryWorkerOptions extends Omit<FailurePolicy, 'unsubscribeOnGone'> {
  leaseSeconds: number;
  pollIntervalMs: number;
  /** Attempts one worker process has in flight at once. */
  workerConcurrency: number;
  /** Attempts of one account in flight at once in one worker process. */
  accountConcurrency: number;
  /** Attempts of one webhook in flight at once, each for a different subscriber. */
  webhookParallelism: number;
  deliveryTimeoutMs: number;
}

/** A worker claims due work itself; a dispatcher (in a process that only serves) sends only what intake leases to it. */
export type WorkerMode = 'worker' | 'dispatcher';

// What one round of one webhook loads: bounded by rows and by payload bytes
// (the first delivery always comes), so that a worker's memory is bounded by
// WORKER_CONCURRENCY rounds, whatever the payloads weigh.
const deliveriesPerRound = 100;
const payloadBytesPerRound = 256 * 1024;
// Live events that may join a round beside a backlog (a replay, a recovery): a
// round takes well under a second at a fast receiver, so this many per round
// keeps new subscribers' events from waiting for the backlog.
const besidePerRound = 20;
// A busy webhook keeps its lease from round to round, up to this many rounds;
// then it is released (due at once) so that webhooks due earlier get a turn.
const roundsPerLease = 50;
// How often a worker that lost its database tries to hand a lease back.
const handBackRetryMs = 500;
const webhooksPerClaim = 64;
/** Clocks of different machines disagree a little: a lease must outlast an attempt's deadline by this much. */
export const leaseMarginMs = 1000;

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** A webhook this worker holds a lease on. */
interface HeldWebhook {
  webhook: ClaimedWebhook;
  /**
   * Where requests go, with the customer's headers and the HMAC keys that sign
   * them: read once per round (a changed URL or rotated secret applies from the next one).
   */
  target: { url: string; headers: CustomHeader[]; keys: Buffer[] };
  lease: Lease;
  pace: WebhookPace;
  /** The lease was taken over: nothing more may start under it. */
  lost: boolean;
  done: Promise<void>;
}

type Recorded =
  | { kind: 'continue'; until: Date; lastError?: string }
  | { kind: 'released'; lastError?: string }
  | { kind: 'lost' }
  | { kind: 'unsubscribed' }
  | { kind: 'deactivated'; deactivation: number; firstFailureAt: Date; lastError: string; reason: 'failures' | 'gone' };

/**
 * The delivery loop. Claims due webhooks under fenced leases (FOR UPDATE SKIP
 * LOCKED, a token per claim), sends each one's deliveries in rounds outside
 * any transaction, and records each round only while its lease still holds.
 * The lease is renewed while rounds run and never lets an attempt start that
 * could outlive it, so no delivery is in flight twice. Capacity is counted in
 * attempts in flight, with a share per account and per webhook, so that one
 * customer's slow endpoints never take another customer's turn.
 */
export class DeliveryWorker implements DirectDelivery {
  readonly id: string;
  private readonly wakeup = new Wakeup();
  private readonly held = new Map<number, HeldWebhook>();
  private readonly slots: Slots;
  private readonly paces: OriginPaces;
  private readonly leaseMs: number;
  private stopping = false;
  private running: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private attempted = 0;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly sender: Sender,
    private readonly log: Logger,
    private readonly observer: Observer,
    private readonly options: DeliveryWorkerOptions,
    private readonly jobs: JobSchedule | undefined,
    id = newWorkerId(),
    private readonly mode: WorkerMode = 'worker',
  ) {
    this.id = id;
    this.slots = new Slots(options.workerConcurrency, options.accountConcurrency);
    this.paces = new OriginPaces({ ceiling: options.accountConcurrency, initial: options.webhookParallelism });
    this.leaseMs = options.leaseSeconds * 1000;
  }

  /** New work may be due (an event came in, a webhook was activated). */
  notify(): void {
    this.wakeup.notify();
  }

  start(): void {
    this.running ??= (async () => {
      this.jobs?.start();
      this.startRenewing();
      if (this.mode === 'worker') await this.loop();
    })();
  }

  /** Direct delivery: up to `wanted` slots of the account for webhooks intake is about to lease to this worker. */
  reserve(accountId: number, wanted: number): number {
    let taken = 0;
    while (taken < wanted && !this.stopping && this.slots.take(accountId)) taken += 1;
    return taken;
  }

  unreserve(accountId: number, count: number): void {
    for (let i = 0; i < count; i += 1) this.slots.give(accountId);
  }

  /** Direct delivery: webhooks intake leased to this worker in its transaction, on slots reserved for them. */
  adopt(webhooks: ClaimedWebhook[], lease: Lease): void {
    this.observer.leasesTaken(webhooks.length);
    for (const webhook of webhooks) this.hold(webhook, { ...lease });
  }

  /**
   * Stops claiming; what is in flight ends by its deadline, is recorded and its
   * lease released; then the background jobs finish their current run.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.notify();
    await this.running;
    await this.heldDone();
    this.stopRenewing();
    await this.jobs?.stop();
  }

  /**
   * One pass for cron: the background jobs, then deliver until nothing is due
   * now, then the jobs again (so a deactivation of this pass is notified in
   * this pass). Returns the attempts made.
   */
  async runOnce(): Promise<number> {
    const before = this.attempted;
    this.startRenewing();
    try {
      await this.jobs?.runAll();
      for (;;) {
        const claimed = this.slots.free > 0 ? await this.claim() : 0;
        if (claimed === 0 && this.held.size === 0) break;
        if (claimed === 0) await Promise.race([...this.held.values()].map((held) => held.done));
      }
      await this.jobs?.runAll();
    } finally {
      if (!this.running) this.stopRenewing();
    }
    return this.attempted - before;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const claimed = this.slots.free > 0 ? await this.claim() : 0;
        // Sleep until the poll interval passes, new work is announced, or a slot frees up.
        if (claimed === 0) await this.wakeup.wait(this.options.pollIntervalMs);
      } catch (error) {
        logFailure(this.log, error, { worker: this.id }, 'claiming failed; retrying');
        await this.wakeup.wait(Math.max(this.options.pollIntervalMs, 1000));
      }
    }
  }

  private async heldDone(): Promise<void> {
    while (this.held.size > 0) await Promise.all([...this.held.values()].map((held) => held.done));
  }

  /** Claims what is due and fits this worker's free slots; returns how many webhooks it took. */
  private async claim(): Promise<number> {
    const now = this.clock.now();
    if (!(await anyWebhookClaimable(this.pool, now))) return 0;
    const lease = newLease(now, this.leaseMs);
    // Slots are taken as candidates are accepted (other leases take and give
    // slots while this transaction waits), and given back if it fails.
    const taken: ClaimedWebhook[] = [];
    const giveBack = () => taken.splice(0).forEach((webhook) => this.slots.give(webhook.accountId));
    try {
      await inTransaction(this.pool, async (tx) => {
        giveBack();
        const candidates = await selectClaimableWebhooks(tx, {
          now,
          limit: Math.min(this.slots.free, webhooksPerClaim),
          excludeIds: [...this.held.keys()],
          excludeAccounts: this.slots.accountsAtLimit(),
        });
        for (const webhook of candidates) if (this.slots.take(webhook.accountId)) taken.push(webhook);
        await leaseWebhooks(tx, taken.map((webhook) => webhook.id), this.id, lease);
      });
    } catch (error) {
      giveBack();
      throw error;
    }
    if (taken.length > 0) this.observer.leasesTaken(taken.length);
    for (const webhook of taken) this.hold(webhook, { ...lease });
    return taken.length;
  }

  /** Runs a leased webhook until it is released; its slot was taken by the claim. */
  private hold(webhook: ClaimedWebhook, lease: Lease): void {
    const origin = this.paces.join(webhook.accountId, webhook.url);
    const pace = new WebhookPace(origin, webhook.maxPerSecond, () => this.clock.now().getTime());
    const held: HeldWebhook = { webhook, target: { url: webhook.url, headers: [], keys: [] }, lease, pace, lost: false, done: Promise.resolve() };
    this.held.set(webhook.id, held);
    held.done = this.deliver(held)
      .catch((error: unknown) => this.stoppedBy(error, held))
      .finally(() => {
        // A lost lease's webhook may have come back to this worker under a new one meanwhile.
        if (this.held.get(webhook.id) === held) this.held.delete(webhook.id);
        this.paces.leave(origin);
        this.slots.give(webhook.accountId);
        this.wakeup.notify();
      });
  }

  /**
   * A round that could not finish. Without a database (a node lost, a donor
   * left) the lease is handed back as soon as one answers, so that the
   * webhook goes on within seconds rather than when the lease runs out;
   * what was sent and not recorded goes again (at least once).
   */
  private async stoppedBy(error: unknown, held: HeldWebhook): Promise<void> {
    const context = { err: error, webhook: held.webhook.id, worker: this.id };
    if (!isDatabaseAway(error)) {
      this.log.error(context, 'delivering failed; the lease runs out and the webhook is taken over');
      return;
    }
    this.log.warn(context, 'delivering stopped: the database is unavailable; the lease is handed back once it answers');
    while (!this.stopping && !held.lost && this.clock.now() < held.lease.until) {
      try {
        await handBackLease(this.pool, held.webhook.id, held.lease.token, this.clock.now());
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, handBackRetryMs));
      }
    }
  }

  /** Rounds under one lease, as long as the endpoint is not down and deliveries may go. */
  private async deliver(held: HeldWebhook): Promise<void> {
    // The throttle counts what earlier leases (of any worker) sent in the last second. Attempts are
    // numbered as they end, so a few more than the throttle's count cover those that started later.
    const { maxPerSecond } = held.webhook;
    if (maxPerSecond !== null) {
      const recent = await recentAttempts(this.pool, held.webhook.id, maxPerSecond + this.options.webhookParallelism);
      held.pace.seed(recent.map((a) => a.attemptedAt.getTime()));
    }
    for (let round = 1; ; round += 1) {
      // A down endpoint is probed with its oldest delivery, whatever its lane; otherwise lanes that back off wait.
      const { health } = held.webhook;
      const skip = health.circuitOpen ? null : await this.backingOffLanes(this.pool, held.webhook);
      const limits = { rows: deliveriesPerRound, bytes: payloadBytesPerRound, beside: health.circuitOpen ? 0 : besidePerRound };
      const { deliveries, target } = await loadPendingDeliveries(this.pool, held.webhook.id, limits, skip);
      if (target) held.target = { url: target.url, headers: target.headers, keys: signingKeys(target.secrets, this.clock.now()) };
      // After a failure nothing new goes beside the next attempt until one succeeds, in this round as in the last.
      const attempts = deliveries.length === 0 ? [] : await this.sendRound(held, deliveries, health.failureStreak > 0 || health.circuitOpen);
      this.attempted += attempts.length;
      // A round that sent nothing (stopping, lease short) ends the lease: no round may spin.
      const keep = round < roundsPerLease && attempts.length > 0 && !this.stopping && !held.lost;
      const recorded = await this.record(held, attempts, keep);
      if (recorded.kind !== 'continue') return;
      held.lease.until = recorded.until;
    }
  }

  /** The lanes that back off now; null (nothing to look up) while no lane retry lies ahead, as the lease holder knows. */
  private async backingOffLanes(db: Queryable, webhook: ClaimedWebhook): Promise<BackingOffLanes | null> {
    const now = this.clock.now();
    return webhook.laneRetryAt && webhook.laneRetryAt > now ? selectBackingOffLanes(db, webhook.id, now) : null;
  }

  private policyFor(webhook: ClaimedWebhook): FailurePolicy {
    return { ...this.options, unsubscribeOnGone: webhook.createdVia === 'zapier' };
  }

  private sendRound(held: HeldWebhook, deliveries: PendingDelivery[], probing: boolean): Promise<RoundAttempt[]> {
    const { webhook } = held;
    const policy = this.policyFor(webhook);
    let health = webhook.health;
    return sendRound({
      deliveries,
      parallelism: this.options.webhookParallelism,
      probing,
      endsRound: (attempt) => {
        health = healthAfter(health, laneAttempt(attempt), policy);
        return endsRound(health, attempt.outcome);
      },
      // Never start an attempt that could outlive the lease: another worker would send it again.
      mayStart: () => !this.stopping && !held.lost && held.lease.until.getTime() - this.clock.now().getTime() >= this.options.deliveryTimeoutMs + leaseMarginMs,
      takeExtraSlot: () => this.slots.take(webhook.accountId),
      giveExtraSlot: () => this.slots.give(webhook.accountId),
      now: () => this.clock.now(),
      pace: {
        waitMs: () => {
          const wait = held.pace.waitMs();
          if (wait !== 0) this.observer.paceWaited();
          return wait;
        },
        whenRoom: (wake) => held.pace.whenRoom(wake),
      },
      send: async (delivery, attemptedAt) => {
        const sentAt = held.pace.start();
        const outcome = await this.send(held, delivery, attemptedAt);
        const paced = held.pace.ended(delivery.id, outcome, sentAt);
        this.observer.deliveryAttempt(outcome);
        // One wide line per attempt. Never the answer's text: receivers echo payloads, and payloads are personal data.
        if (this.log.isLevelEnabled('info')) this.log.info(
          {
            worker: this.id, webhook: webhook.id, delivery: delivery.id, event: delivery.event, status: outcome.statusCode, ms: Math.round(outcome.durationMs),
            outcome: outcome.succeeded ? 'delivered' : paced ? 'paced' : 'failed', failureClass: outcome.succeeded ? undefined : outcome.failureClass,
          },
          'delivery attempt',
        );
        return { outcome, paced };
      },
    });
  }

  /**
   * Records a round in one transaction, only while this lease still holds the
   * webhook: the first statement checks the lease's token; when it finds
   * another claim's, nothing is written.
   */
  private async record(held: HeldWebhook, attempts: RoundAttempt[], keep: boolean): Promise<Recorded> {
    const recorded = await this.recordRound(held, attempts, keep);
    if (recorded.kind === 'deactivated') {
      this.observer.webhookDeactivated(recorded.reason);
      this.log.warn({ worker: this.id, webhook: held.webhook.id, deactivation: recorded.deactivation, reason: recorded.reason }, 'webhook deactivated');
    }
    if (recorded.kind === 'unsubscribed') {
      this.observer.webhookDeactivated('unsubscribed');
      this.log.warn({ worker: this.id, webhook: held.webhook.id }, 'webhook deleted: its REST hook receiver answered 410 Gone');
    }
    return recorded;
  }

  /** `keep`: the lease may go on to another round if more deliveries may go. */
  private async recordRound(held: HeldWebhook, attempts: RoundAttempt[], keep: boolean): Promise<Recorded> {
    const { webhook } = held;
    const delivered = attempts.filter((a) => a.outcome.succeeded).map((a) => a.delivery.id);
    const failed = attempts.filter((a) => !a.outcome.succeeded).map((a) => a.delivery.id);
    const counted = countedAttempts(attempts, held.pace.takesRequests());
    let decision: RoundDecision | undefined;
    const recorded = await inTransaction(this.pool, async (tx): Promise<Recorded> => {
      const now = this.clock.now();
      decision = decideAfterRound(webhook.health, counted.map(laneAttempt), now, this.policyFor(webhook));
      const applied = await this.apply(tx, held, decision, attempts, delivered, keep, now);
      if (applied.kind === 'lost') {
        this.log.warn({ worker: this.id, webhook: webhook.id }, 'lease lost before recording; another worker took over');
        return applied;
      }
      if (applied.kind === 'unsubscribed') return applied; // its deliveries and attempts went with it
      await insertAttempts(tx, attempts.map(({ delivery, attemptedAt, outcome }) => ({
        deliveryId: delivery.id, webhookId: webhook.id, attemptedAt, durationMs: outcome.durationMs, statusCode: outcome.statusCode,
        succeeded: outcome.succeeded, failureClass: outcome.succeeded ? null : outcome.failureClass, error: outcome.succeeded ? null : outcome.error,
        response: outcome.response ?? null, worker: this.id,
      })));
      await markDeliveriesDelivered(tx, delivered, now);
      await countFailedAttempts(tx, failed);
      if (applied.kind === 'deactivated') await this.deactivated(tx, webhook, decision, applied, now);
      if (decision.warn && applied.kind !== 'deactivated') await this.warn(tx, webhook, decision, applied.lastError ?? erasedText, now);
      if (decision.lanes.some((lane) => lane.kind === 'give_up')) await queueGivenUpNotice(tx, { accountId: webhook.accountId, webhookId: webhook.id }, now);
      return applied;
    });
    // The next round under this lease starts from what was recorded.
    if (recorded.kind === 'continue') webhook.health = decision!.health;
    return recorded;
  }

  /** The webhook's and the lanes' side of a round's decision, under the lease's token. */
  private async apply(
    tx: PoolConnection,
    held: HeldWebhook,
    decision: RoundDecision,
    attempts: RoundAttempt[],
    delivered: number[],
    keep: boolean,
    now: Date,
  ): Promise<Recorded> {
    const { webhook, lease } = held;
    const { endpoint } = decision;
    const continueOrRelease = async (): Promise<Extract<Recorded, { kind: 'continue' | 'released' | 'lost' }>> => {
      const until = new Date(now.getTime() + this.leaseMs);
      const lanes = await this.backingOffLanes(tx, webhook);
      if (keep && (await extendLeaseIfMoreWaits(tx, webhook.id, { token: lease.token, until }, delivered, lanes))) return { kind: 'continue', until };
      return (await releaseWebhook(tx, webhook.id, lease.token, delivered, lanes, now)) ? { kind: 'released' } : { kind: 'lost' };
    };
    // The common round: nothing failed now or before. Its first statement is the lease check.
    if (!decision.failure && isHealthy(webhook.health)) return continueOrRelease();
    if (endpoint.kind === 'unsubscribe') return (await deleteUnsubscribedWebhook(tx, webhook.id, lease.token)) ? { kind: 'unsubscribed' } : { kind: 'lost' };
    // The row is locked first, so that the answer's text is kept only if its
    // delivery was not erased while the attempt was in flight.
    if (!(await lockLeasedWebhook(tx, webhook.id, lease.token))) return { kind: 'lost' };
    const failedDelivery = decision.failure && attempts.find((a) => a.outcome === decision.failure)!.delivery.id;
    const lastError = failedDelivery === undefined ? undefined : (await deliveryExists(tx, failedDelivery)) ? decision.failure!.error : erasedText;
    await recordEndpointHealth(tx, webhook.id, { health: decision.health, lastError, runsStarted: decision.runsStarted });
    if (decision.reopened) await reopenLanes(tx, webhook.id);
    await this.applyLanes(tx, webhook, decision, now);
    switch (endpoint.kind) {
      case 'flowing': {
        const next = await continueOrRelease();
        return next.kind === 'lost' || lastError === undefined ? next : { ...next, lastError };
      }
      case 'down':
        await backOffWebhook(tx, webhook.id, lease.token, endpoint.nextAttemptAt);
        this.log.info({ worker: this.id, webhook: webhook.id, failedSteps: decision.health.failedSteps, nextAttemptAt: endpoint.nextAttemptAt }, 'endpoint down: webhook backs off');
        return { kind: 'released', lastError };
      case 'deactivate': {
        const deactivated = await deactivateWebhook(tx, webhook.id, lease.token, now);
        return deactivated ? { kind: 'deactivated', reason: endpoint.reason, lastError: lastError ?? erasedText, ...deactivated } : { kind: 'lost' };
      }
    }
  }

  /** Each lane that failed backs off on the schedule, or gives its delivery up and moves on. */
  private async applyLanes(tx: PoolConnection, webhook: ClaimedWebhook, decision: RoundDecision, now: Date): Promise<void> {
    let latestRetry: Date | undefined;
    for (const lane of decision.lanes) {
      if (lane.kind !== 'retry') continue;
      await backOffLane(tx, lane.deliveryId, lane);
      if (!latestRetry || lane.retryAt > latestRetry) latestRetry = lane.retryAt;
    }
    if (latestRetry) await noteLaneRetry(tx, webhook.id, latestRetry);
    if (latestRetry && !(webhook.laneRetryAt && webhook.laneRetryAt > latestRetry)) webhook.laneRetryAt = latestRetry;
    const givenUp = decision.lanes.filter((lane) => lane.kind === 'give_up');
    if (givenUp.length > 0) {
      await giveUpDeliveries(tx, givenUp.map((lane) => lane.deliveryId), this.options.deactivateAfterFailures, now);
      this.log.warn({ worker: this.id, webhook: webhook.id, deliveries: givenUp.map((lane) => lane.deliveryId) }, 'deliveries given up: their lanes failed too often while the endpoint succeeded elsewhere');
    }
  }

  /** What waits becomes buffered, and the account is told. */
  private async deactivated(tx: PoolConnection, webhook: ClaimedWebhook, decision: RoundDecision, applied: Extract<Recorded, { kind: 'deactivated' }>, now: Date): Promise<void> {
    await bufferPendingDeliveries(tx, webhook.id);
    const details = {
      reason: applied.reason,
      lastError: applied.lastError,
      failureClass: decision.failure!.failureClass,
      statusCode: decision.failure!.statusCode,
      failureCount: decision.health.failedSteps,
      firstFailureAt: applied.firstFailureAt.toISOString(),
      deactivatedAt: now.toISOString(),
    };
    const occasion = { accountId: webhook.accountId, webhookId: webhook.id, deactivation: applied.deactivation, failureRun: 0 };
    await insertNotification(tx, { ...occasion, kind: 'webhook_deactivated', details }, now);
  }

  /** The warning of this run of failures (one per run: the notification's occasion is the run). */
  private async warn(tx: PoolConnection, webhook: ClaimedWebhook, decision: RoundDecision, lastError: string, now: Date): Promise<void> {
    const run = await currentFailureRun(tx, webhook.id);
    const nextAttemptAt = decision.endpoint.kind === 'down' ? decision.endpoint.nextAttemptAt : stepEndsAt(decision.health, this.options);
    const details = {
      lastError,
      failureClass: decision.failure!.failureClass,
      statusCode: decision.failure!.statusCode,
      failureCount: decision.health.failedSteps,
      firstFailureAt: run.firstFailureAt.toISOString(),
      nextAttemptAt: nextAttemptAt.toISOString(),
      deactivateBy: latestDeactivationAt(decision.health.failedSteps, now, this.options, this.options.deliveryTimeoutMs).toISOString(),
    };
    const occasion = { accountId: webhook.accountId, webhookId: webhook.id, deactivation: run.deactivations, failureRun: run.run };
    await insertNotification(tx, { ...occasion, kind: 'webhook_failing', details }, now);
    this.log.info({ worker: this.id, webhook: webhook.id, failedSteps: decision.health.failedSteps, run: run.run }, 'webhook failing: warning queued');
  }

  private send(held: HeldWebhook, delivery: PendingDelivery, now: Date): Promise<AttemptOutcome> {
    const { url, headers, keys } = held.target;
    const signed = signedHeaders(keys, messageIdOf(delivery.id), delivery.event, now, delivery.payload);
    // signed is this attempt's own object; spreading header objects costs microseconds per attempt.
    const own = delivery.sequence ? Object.assign(signed, sequenceHeaders(delivery.sequence)) : signed;
    return this.sender.send({ url, body: delivery.payload, headers: withCustomHeaders(headers, own), onWritten: held.pace.written });
  }

  /** Every quarter of a lease, all leases this worker holds are pushed out in one statement. */
  private startRenewing(): void {
    this.renewTimer ??= setInterval(() => {
      this.renewLeases().catch((error: unknown) => logFailure(this.log, error, { worker: this.id }, 'renewing leases failed'));
    }, this.leaseMs / 4);
  }

  private stopRenewing(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async renewLeases(): Promise<void> {
    const held = [...this.held.values()].filter((h) => !h.lost);
    if (held.length === 0) return;
    const until = new Date(this.clock.now().getTime() + this.leaseMs);
    const stillHeld = await renewLeases(this.pool, held.map((h) => ({ id: h.webhook.id, token: h.lease.token })), until);
    for (const h of held) {
      if (!stillHeld.has(h.webhook.id)) {
        h.lost = true;
        this.log.warn({ worker: this.id, webhook: h.webhook.id }, 'lease taken over; no more attempts under it');
      } else if (h.lease.until < until) {
        h.lease.until = until;
      }
    }
  }
}

/**
 * The attempts the failure policy judges: paced refusals cost nothing, unless
 * the round accepted nothing from an endpoint that takes nothing (it is down).
 */
function countedAttempts(attempts: RoundAttempt[], endpointTakesRequests: boolean): RoundAttempt[] {
  const acceptedAny = attempts.some((a) => a.outcome.succeeded);
  return acceptedAny || endpointTakesRequests ? attempts.filter((a) => !a.paced) : attempts;
}

function laneAttempt(attempt: RoundAttempt): LaneAttempt {
  return { deliveryId: attempt.delivery.id, laneFailures: attempt.delivery.failures, endedAt: attempt.endedAt, outcome: attempt.outcome };
}
