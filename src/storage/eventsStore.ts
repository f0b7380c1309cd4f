import type { FanOutPlan, PlannedDelivery } from '../domain/fanOut.js';
import type { EventName } from '../domain/webhook.js';
import type { Queryable, ResultSetHeader, RowDataPacket } from './database.js';
import { valuesList } from './sqlValues.js';

export interface StoredEvent {
  accountId: number;
  externalId: string | null;
  event: EventName;
  subscriber: string | null;
  payload: string;
  occurredAt: Date;
}

export async function accountIdsByUsername(db: Queryable, usernames: string[]): Promise<Map<string, number>> {
  if (usernames.length === 0) return new Map();
  const [rows] = await db.query<RowDataPacket[]>('select a.id, a.username from accounts a where a.username in (?)', [usernames]);
  return new Map(rows.map((row) => [row.username as string, Number(row.id)]));
}

export async function insertEvent(db: Queryable, event: StoredEvent, now: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    'insert into events (account_id, external_id, event, subscriber, payload, payload_bytes, occurred_at, received_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
    [event.accountId, event.externalId, event.event, event.subscriber, event.payload, Buffer.byteLength(event.payload), event.occurredAt, now],
  );
  return result.insertId;
}

/**
 * The event an account already reported under this id, with how many
 * deliveries it made. A locking read: a concurrent intake of the same id
 * waits for this one (or deadlocks with it and is retried whole), so one of
 * them stores it.
 */
export async function findReportedEvent(tx: Queryable, accountId: number, externalId: string): Promise<{ id: number; deliveries: number } | undefined> {
  const [rows] = await tx.query<RowDataPacket[]>(
    'select e.id, (select count(*) from deliveries d where d.event_id = e.id) as deliveries from events e where e.account_id = ? and e.external_id = ? lock in share mode',
    [accountId, externalId],
  );
  return rows[0] ? { id: Number(rows[0].id), deliveries: Number(rows[0].deliveries) } : undefined;
}

/** The stored last sequence of the lanes of these webhooks and subscribers; read under the webhooks' locks, which every writer of a lane holds. */
export async function findLaneEnds(tx: Queryable, webhookIds: number[], subscribers: string[]): Promise<(webhookId: number, subscriber: string) => number | undefined> {
  if (webhookIds.length === 0 || subscribers.length === 0) return () => undefined;
  const [rows] = await tx.query<RowDataPacket[]>(
    'select ls.webhook_id, ls.subscriber, ls.last_sequence from lane_sequences ls where ls.webhook_id in (?) and ls.subscriber in (?)',
    [webhookIds, subscribers],
  );
  const ends = new Map(rows.map((row) => [`${row.webhook_id}\u0000${row.subscriber}`, Number(row.last_sequence)]));
  return (webhookId, subscriber) => ends.get(`${webhookId}\u0000${subscriber}`);
}

// Rows per statement: a large outbox batch to many webhooks stays well inside max_allowed_packet.
const rowsPerInsert = 1000;

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += rowsPerInsert) yield items.slice(start, start + rowsPerInsert);
}

/** The planned deliveries: pending for an active webhook, buffered for a deactivated one; each carries its event's time. */
export async function insertDeliveries(tx: Queryable, deliveries: readonly PlannedDelivery[], now: Date): Promise<void> {
  for (const chunk of chunks(deliveries)) {
    const rows = valuesList(tx, chunk.map((d) => [d.webhookId, d.eventId, d.sequence, d.previousSequence, d.buffered ? 'buffered' : 'pending', d.occurredAt, now]));
    await tx.query(`insert into deliveries (webhook_id, event_id, sequence, previous_sequence, status, occurred_at, created_at) values ${rows}`);
  }
}

/** Each lane the batch extended now ends at its newest sequence. */
export async function storeLaneEnds(tx: Queryable, laneEnds: FanOutPlan['laneEnds'], now: Date): Promise<void> {
  for (const chunk of chunks(laneEnds)) {
    const rows = valuesList(tx, chunk.map((lane) => [lane.webhookId, lane.subscriber, lane.lastSequence, now]));
    await tx.query(
      `insert into lane_sequences (webhook_id, subscriber, last_sequence, last_at) values ${rows}
       on duplicate key update last_sequence = values(last_sequence), last_at = values(last_at)`,
    );
  }
}

/** Lanes whose last sequence is older than the retention: what came before is gone, so their next event's previous sequence is 0. */
export async function purgeOldLaneSequences(db: Queryable, before: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>('delete from lane_sequences where last_at < ? limit ?', [before, limit]);
  return result.affectedRows;
}

/**
 * Clears payloads nobody may look at any more: every delivery of the event
 * finished before `finishedBefore` (and the event came in before it too). The
 * event row stays while deliveries refer to it.
 */
export async function purgeExpiredPayloads(db: Queryable, finishedBefore: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    `update events set payload = null where id in (select id from (
       select e.id from events e
       where e.received_at < ? and e.payload is not null
         and not exists (select 1 from deliveries d where d.event_id = e.id and (d.status in ('pending', 'buffered') or d.finished_at >= ?))
       order by e.id limit ?) as expired)`,
    [finishedBefore, finishedBefore, limit],
  );
  return result.affectedRows;
}

/** Event rows that no delivery refers to any more, older than `receivedBefore`. */
export async function purgeUnreferencedEvents(db: Queryable, receivedBefore: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    `delete from events where id in (select id from (
       select e.id from events e
       where e.received_at < ? and not exists (select 1 from deliveries d where d.event_id = e.id)
       order by e.id limit ?) as unreferenced)`,
    [receivedBefore, limit],
  );
  return result.affectedRows;
}

/** The newest payloads of one event in an account, newest first (Zapier's samples). */
export async function recentPayloads(db: Queryable, accountId: number, event: EventName, limit: number): Promise<string[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'select e.payload from events e where e.account_id = ? and e.event = ? and e.payload is not null order by e.id desc limit ?',
    [accountId, event, limit],
  );
  return rows.map((row) => String(row.payload));
}
