import type { Clock } from '../clock.js';
import { ApiError, ErrorCode } from '../domain/errors.js';
import { planFanOut, type FanOutPlan, type StoredEventToFanOut } from '../domain/fanOut.js';
import { readReportedEvent, type PayloadLimits, type ReportedEvent } from '../domain/event.js';
import { inTransaction, RetryTransaction, type Pool, type PoolConnection } from '../storage/database.js';
import { accountIdsByUsername, findLaneEnds, findReportedEvent, insertDeliveries, insertEvent, storeLaneEnds } from '../storage/eventsStore.js';
import { anyOutboxRowWaiting, claimOutboxRows, deleteOutboxRows, refuseOutboxRow } from '../storage/outboxStore.js';
import { leaseWebhooks, lockWebhooksOfEvents, newLease, recordFanOut, type ClaimedWebhook, type Lease, type ReceivingWebhook } from '../storage/webhookLifecycleStore.js';

export interface IntakeOptions extends PayloadLimits {
  bufferDays: number;
  leaseSeconds: number;
}

export interface AcceptedEvent {
  id: number;
  deliveries: number;
  /** The platform reported this id before: nothing new was stored or sent. */
  duplicate?: true;
}

/**
 * A worker in this process that takes over webhooks intake leases to it in its
 * own transaction, so that an event's first attempt leaves right after the
 * commit instead of at the next poll of some worker.
 */
export interface DirectDelivery {
  /** The worker's id, written into the leases it is given. */
  readonly id: string;
  /** Takes up to `wanted` of the worker's slots for the account; returns how many it got. */
  reserve(accountId: number, wanted: number): number;
  unreserve(accountId: number, count: number): void;
  /** Runs the leased webhooks on the slots reserved for them. */
  adopt(webhooks: ClaimedWebhook[], lease: Lease): void;
}

/** Webhooks leased for direct delivery in one transaction, and the slots reserved for them. */
class DirectLeases {
  readonly webhooks: ClaimedWebhook[] = [];
  readonly lease: Lease;
  private readonly reserved = new Map<number, number>();

  constructor(
    private readonly direct: DirectDelivery,
    now: Date,
    leaseSeconds: number,
  ) {
    this.lease = newLease(now, leaseSeconds * 1000);
  }

  /** Leases, per account, what the batch made due and the worker has room for; the intake has locked those rows. */
  async take(tx: PoolConnection, due: ClaimedWebhook[]): Promise<void> {
    const taken: ClaimedWebhook[] = [];
    for (const accountId of new Set(due.map((w) => w.accountId))) {
      const candidates = due.filter((w) => w.accountId === accountId);
      const room = this.direct.reserve(accountId, candidates.length);
      if (room === 0) continue;
      this.reserved.set(accountId, (this.reserved.get(accountId) ?? 0) + room);
      taken.push(...candidates.slice(0, room));
    }
    await leaseWebhooks(tx, taken.map((w) => w.id), this.direct.id, this.lease);
    this.webhooks.push(...taken);
  }

  /** After the commit: the worker runs them, on the slots reserved. */
  handOver(): void {
    this.reserved.clear();
    if (this.webhooks.length > 0) this.direct.adopt(this.webhooks, this.lease);
  }

  /** The transaction failed: nothing was leased. */
  giveBack(): void {
    for (const [accountId, count] of this.reserved) this.direct.unreserve(accountId, count);
    this.reserved.clear();
  }
}

/**
 * Every way in (HTTP intake, the outbox, the command line) ends here: events
 * are checked, then stored with their deliveries in one transaction, so that an
 * accepted event is durable and fanned out before the caller hears "accepted".
 */
export class EventIntake {
  private direct: DirectDelivery | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: IntakeOptions,
    private readonly onAccepted: () => void = () => undefined,
  ) {}

  /** From now on, webhooks an accepted event makes due are leased to this worker in the intake's transaction. */
  deliverDirectly(direct: DirectDelivery): void {
    this.direct = direct;
  }

  /** All or nothing: one bad event refuses the whole batch, naming its position. */
  async accept(inputs: unknown[]): Promise<AcceptedEvent[]> {
    const now = this.clock.now();
    const events = inputs.map((input, index) => {
      try {
        return readReportedEvent(input, now, this.options);
      } catch (error) {
        throw inputs.length > 1 && error instanceof ApiError ? new ApiError(error.code, `event ${index}: ${error.message}`) : error;
      }
    });
    const accepted = await this.inIntakeTransaction(async (tx) => {
      const accounts = await accountIdsByUsername(tx, [...new Set(events.map((e) => e.account))]);
      const unknown = events.findIndex((e) => !accounts.has(e.account));
      if (unknown >= 0) {
        const prefix = events.length > 1 ? `event ${unknown}: ` : '';
        throw new ApiError(ErrorCode.invalidParameter, `${prefix}parameter 'account' names no account`);
      }
      return this.store(tx, events.map((event) => ({ event, accountId: accounts.get(event.account)! })), now);
    });
    if (accepted.some((a) => a.deliveries > 0)) this.onAccepted();
    return accepted;
  }

  /**
   * Moves rows the platform wrote into event_outbox into events, in id order.
   * A row that cannot be accepted stays, with its reason, for an operator.
   */
  async drainOutbox(limit = 500): Promise<number> {
    if (!(await anyOutboxRowWaiting(this.pool))) return 0;
    const now = this.clock.now();
    const moved = await this.inIntakeTransaction(async (tx) => {
      const rows = await claimOutboxRows(tx, limit);
      if (rows.length === 0) return { value: 0, due: [] };
      const accounts = await accountIdsByUsername(tx, [...new Set(rows.map((r) => r.account))]);
      const done: number[] = [];
      const accepted: Array<{ event: ReportedEvent; accountId: number }> = [];
      for (const row of rows) {
        let event: ReportedEvent;
        try {
          const reported = { account: row.account, id: row.eventId, event: row.event, subscriber: row.subscriber, payload: row.payload, occurredAt: row.occurredAt ?? undefined };
          event = readReportedEvent(reported, now, this.options);
          if (!accounts.has(event.account)) throw new ApiError(ErrorCode.invalidParameter, "parameter 'account' names no account");
        } catch (error) {
          // Whatever is wrong with one row is that row's reason; the rows behind it go on.
          const reason = error instanceof ApiError ? error.message : `the row could not be read: ${(error as Error).message}`;
          await refuseOutboxRow(tx, row.id, reason);
          continue;
        }
        accepted.push({ event, accountId: accounts.get(event.account)! });
        done.push(row.id);
      }
      const { due } = await this.store(tx, accepted, now);
      await deleteOutboxRows(tx, done);
      return { value: done.length, due };
    });
    if (moved > 0) this.onAccepted();
    return moved;
  }

  /**
   * One intake transaction. `work` returns its value and the webhooks it made
   * due that may be sent to now; with direct delivery, those are leased in the
   * same transaction and handed to the worker after the commit.
   */
  private async inIntakeTransaction<T>(work: (tx: PoolConnection) => Promise<{ value: T; due: ClaimedWebhook[] }>): Promise<T> {
    const direct = this.direct;
    let leases: DirectLeases | undefined;
    let result: T;
    try {
      result = await inTransaction(this.pool, async (tx) => {
        leases?.giveBack(); // a deadlock retry starts over
        leases = undefined;
        const { value, due } = await work(tx);
        if (direct && due.length > 0) {
          leases = new DirectLeases(direct, this.clock.now(), this.options.leaseSeconds);
          await leases.take(tx, due);
        }
        return value;
      });
    } catch (error) {
      leases?.giveBack();
      throw error;
    }
    leases?.handOver();
    return result;
  }

  /**
   * Stores the events, then locks the webhooks they go to and fans them all
   * out at once: the webhook rows, which workers record their rounds on, stay
   * locked for a few statements per batch, not for every event's.
   */
  private async store(tx: PoolConnection, events: Array<{ event: ReportedEvent; accountId: number }>, now: Date): Promise<{ value: AcceptedEvent[]; due: ClaimedWebhook[] }> {
    const { results, stored } = await this.storeEvents(tx, events, now);
    const { plan, webhooks } = await this.fanOut(tx, stored, now);
    for (const result of results) result.deliveries = plan.deliveriesPerEvent.get(result.id) ?? result.deliveries;
    const sending = new Set(plan.deliveries.filter((d) => !d.buffered).map((d) => d.webhookId));
    return { value: results, due: webhooks.filter((w) => w.sendableNow && sending.has(w.claimed.id)).map((w) => w.claimed) };
  }

  /** The events not reported before, stored; an id given twice in one batch is the same event. */
  private async storeEvents(tx: PoolConnection, events: Array<{ event: ReportedEvent; accountId: number }>, now: Date): Promise<{ results: AcceptedEvent[]; stored: StoredEventToFanOut[] }> {
    const results: AcceptedEvent[] = [];
    const stored: StoredEventToFanOut[] = [];
    const storedHere = new Map<string, number>();
    for (const { event, accountId } of events) {
      const externalKey = `${accountId}\u0000${event.id}`;
      if (event.id !== null) {
        const sameBatch = storedHere.get(externalKey);
        const known = sameBatch === undefined ? await findReportedEvent(tx, accountId, event.id) : { id: sameBatch, deliveries: 0 };
        if (known) {
          results.push({ ...known, duplicate: true });
          continue;
        }
      }
      const record = { accountId, externalId: event.id, event: event.event, subscriber: event.subscriber, payload: event.payload, occurredAt: event.occurredAt };
      const id = await insertEvent(tx, record, now).catch((error: { code?: string; message?: string }) => {
        // On a cluster another node's intake of the same id can commit between the look-up and here: from the start, the look-up finds it.
        if (error.code === 'ER_DUP_ENTRY' && error.message?.includes('uq_events_external_id')) throw new RetryTransaction('the same event id was stored meanwhile');
        throw error;
      });
      if (event.id !== null) storedHere.set(externalKey, id);
      const bufferSince = new Date(event.occurredAt.getTime() - this.options.bufferDays * 86_400_000);
      stored.push({ id, accountId, event: event.event, subscriber: event.subscriber, occurredAt: event.occurredAt, bufferSince });
      results.push({ id, deliveries: 0 });
    }
    return { results, stored };
  }

  /** Locks the webhooks of the stored events, plans their deliveries and writes them with the counters and lane ends. */
  private async fanOut(tx: PoolConnection, stored: StoredEventToFanOut[], now: Date): Promise<{ plan: FanOutPlan; webhooks: ReceivingWebhook[] }> {
    const kinds = new Map(stored.map((e) => [`${e.accountId}\u0000${e.event}`, { accountId: e.accountId, event: e.event }]));
    const webhooks = await lockWebhooksOfEvents(tx, [...kinds.values()], now);
    const subscribers = [...new Set(stored.flatMap((e) => (e.subscriber === null ? [] : [e.subscriber])))];
    const laneEnds = await findLaneEnds(tx, webhooks.map((w) => w.counting.id), subscribers);
    const plan = planFanOut(webhooks.map((w) => w.counting), stored, laneEnds);
    await insertDeliveries(tx, plan.deliveries, now);
    await recordFanOut(tx, plan.counters, now);
    await storeLaneEnds(tx, plan.laneEnds, now);
    return { plan, webhooks };
  }
}
