import type { Queryable, RowDataPacket } from './database.js';

export interface QueueStats {
  due: number;
  waiting: number;
  buffered: number;
  outboxWaiting: number;
  outboxRefused: number;
  notificationsPending: number;
}

/** The queue's state for /metrics: one statement, index-only counts. */
export async function queueStats(db: Queryable, now: Date): Promise<QueueStats> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select
       (select count(*) from webhooks w where w.due_at <= ?) as due,
       (select count(*) from deliveries d where d.status = 'pending') as waiting,
       (select count(*) from deliveries d where d.status = 'buffered') as buffered,
       (select count(*) from event_outbox o where o.refused_reason is null) as outbox_waiting,
       (select count(*) from event_outbox o where o.refused_reason is not null) as outbox_refused,
       (select count(*) from notifications n where n.status = 'pending') as notifications_pending`,
    [now],
  );
  const row = rows[0]!;
  return {
    due: Number(row.due),
    waiting: Number(row.waiting),
    buffered: Number(row.buffered),
    outboxWaiting: Number(row.outbox_waiting),
    outboxRefused: Number(row.outbox_refused),
    notificationsPending: Number(row.notifications_pending),
  };
}
