import type { Queryable, RowDataPacket } from './database.js';

export interface OutboxRow {
  id: number;
  account: string;
  eventId: string | null;
  event: string;
  subscriber: string | null;
  payload: string;
  occurredAt: Date | null;
}

/** One probe without locks, so that an idle worker's outbox check costs one query. */
export async function anyOutboxRowWaiting(db: Queryable): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>('select 1 from event_outbox o where o.refused_reason is null limit 1');
  return rows.length > 0;
}

/** The oldest waiting rows, locked for this transaction; other workers skip them. */
export async function claimOutboxRows(db: Queryable, limit: number): Promise<OutboxRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select o.id, o.account, o.event_id, o.event, o.subscriber, o.payload, o.occurred_at from event_outbox o
     where o.refused_reason is null order by o.id limit ? for update skip locked`,
    [limit],
  );
  return rows.map((row) => ({
    id: Number(row.id), account: row.account, eventId: row.event_id ?? null, event: row.event, subscriber: row.subscriber, payload: row.payload, occurredAt: row.occurred_at,
  }));
}

export async function deleteOutboxRows(db: Queryable, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.query('delete from event_outbox where id in (?)', [ids]);
}

export async function refuseOutboxRow(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query('update event_outbox set refused_reason = ? where id = ?', [reason.slice(0, 500), id]);
}
