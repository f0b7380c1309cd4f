import type { Clock } from '../clock.js';
import { ApiError, ErrorCode } from '../domain/errors.js';
import { readReportedEvent, type ReportedEvent } from '../domain/event.js';
import { inTransaction, type Pool, type PoolConnection } from '../storage/database.js';
import { accountIdsByUsername, fanOutEvent, insertEvent } from '../storage/eventsStore.js';
import { touchWebhooksForEvent } from '../storage/webhookLifecycleStore.js';
import { claimOutboxRows, deleteOutboxRows, refuseOutboxRow } from '../storage/outboxStore.js';

export interface IntakeOptions {
  bufferDays: number;
  maxPayloadBytes: number;
}

export interface AcceptedEvent {
  id: number;
  deliveries: number;
}

/**
 * Every way in (HTTP intake, the outbox, the command line) ends here: events
 * are checked, then stored with their deliveries in one transaction, so that an
 * accepted event is durable and fanned out before the caller hears "accepted".
 */
export class EventIntake {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: IntakeOptions,
    private readonly onAccepted: () => void = () => undefined,
  ) {}

  /** All or nothing: one bad event refuses the whole batch, naming its position. */
  async accept(inputs: unknown[]): Promise<AcceptedEvent[]> {
    const now = this.clock.now();
    const events = inputs.map((input, index) => {
      try {
        return readReportedEvent(input, now, this.options.maxPayloadBytes);
      } catch (error) {
        throw inputs.length > 1 && error instanceof ApiError ? new ApiError(error.code, `event ${index}: ${error.message}`) : error;
      }
    });
    const accepted = await inTransaction(this.pool, async (tx) => {
      const accounts = await accountIdsByUsername(tx, [...new Set(events.map((e) => e.account))]);
      const unknown = events.findIndex((e) => !accounts.has(e.account));
      if (unknown >= 0) {
        const prefix = events.length > 1 ? `event ${unknown}: ` : '';
        throw new ApiError(ErrorCode.invalidParameter, `${prefix}parameter 'account' names no account`);
      }
      const results: AcceptedEvent[] = [];
      for (const event of events) results.push(await this.store(tx, event, accounts.get(event.account)!, now));
      return results;
    });
    if (accepted.some((a) => a.deliveries > 0)) this.onAccepted();
    return accepted;
  }

  private async store(tx: PoolConnection, event: ReportedEvent, accountId: number, now: Date): Promise<AcceptedEvent> {
    const stored = { accountId, event: event.event, subscriber: event.subscriber, payload: event.payload, occurredAt: event.occurredAt };
    const bufferSince = new Date(event.occurredAt.getTime() - this.options.bufferDays * 86_400_000);
    // Webhook rows first, deliveries second: the worker, activation and
    // deletion lock in the same order, so none of them deadlock with intake.
    await touchWebhooksForEvent(tx, stored, bufferSince, now);
    const id = await insertEvent(tx, stored, now);
    const deliveries = await fanOutEvent(tx, id, stored, bufferSince, now);
    return { id, deliveries };
  }

  /**
   * Moves rows the platform wrote into event_outbox into events, in id order.
   * A row that cannot be accepted stays, with its reason, for an operator.
   */
  async drainOutbox(limit = 500): Promise<number> {
    const now = this.clock.now();
    const moved = await inTransaction(this.pool, async (tx) => {
      const rows = await claimOutboxRows(tx, limit);
      if (rows.length === 0) return 0;
      const accounts = await accountIdsByUsername(tx, [...new Set(rows.map((r) => r.account))]);
      const done: number[] = [];
      for (const row of rows) {
        let event: ReportedEvent;
        try {
          event = readReportedEvent({ account: row.account, event: row.event, subscriber: row.subscriber, payload: row.payload, occurredAt: row.occurredAt ?? undefined }, now, this.options.maxPayloadBytes);
          if (!accounts.has(event.account)) throw new ApiError(ErrorCode.invalidParameter, "parameter 'account' names no account");
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          await refuseOutboxRow(tx, row.id, error.message);
          continue;
        }
        await this.store(tx, event, accounts.get(event.account)!, now);
        done.push(row.id);
      }
      await deleteOutboxRows(tx, done);
      return done.length;
    });
    if (moved > 0) this.onAccepted();
    return moved;
  }
}
