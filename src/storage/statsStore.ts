import type { Queryable, RowDataPacket } from './database.js';

/** Figures of the shared queue: the same whichever process reads them. */
export interface QueueStats {
  due: number;
  waiting: number;
  buffered: number;
  outboxWaiting: number;
  outboxRefused: number;
  notificationsPending: number;
  /** How long the due webhook that no worker has claimed has waited (0: none waits). */
  oldestUnclaimedSeconds: number;
  /**
   * How long the oldest delivery that may go now has waited: its lane and its
   * endpoint are not backing off, and its webhook has no throttle of the
   * customer's (0: none waits).
   */
  oldestDueDeliverySeconds: number;
  /** How long the oldest outbox row not yet taken in has waited (0: none). */
  oldestOutboxSeconds: number;
}

/** The queue's state for /metrics in one statement. */
export async function queueStats(db: Queryable, now: Date): Promise<QueueStats> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select
       (select count(*) from webhooks w where w.due_at <= ?) as due,
       (select count(*) from deliveries d where d.status = 'pending') as waiting,
       (select count(*) from deliveries d where d.status = 'buffered') as buffered,
       (select count(*) from event_outbox o where o.refused_reason is null) as outbox_waiting,
       (select count(*) from event_outbox o where o.refused_reason is not null) as outbox_refused,
       (select count(*) from notifications n where n.status = 'pending') as notifications_pending,
       (select min(w.due_at) from webhooks w where w.due_at <= ? and (w.locked_until is null or w.locked_until < ?)) as oldest_unclaimed,
       (select min(greatest(d.occurred_at, d.created_at, coalesce(d.retry_at, d.created_at)))
          from webhooks w join deliveries d on d.webhook_id = w.id and d.status = 'pending' and (d.retry_at is null or d.retry_at <= ?)
          where w.active = 1 and w.max_per_second is null and (w.circuit_open = 0 or w.due_at <= ?)) as oldest_due_delivery,
       (select min(o.created_at) from event_outbox o where o.refused_reason is null) as oldest_outbox`,
    [now, now, now, now, now],
  );
  const row = rows[0]!;
  const age = (since: Date | null) => (since === null ? 0 : Math.max(0, (now.getTime() - since.getTime()) / 1000));
  return {
    due: Number(row.due),
    waiting: Number(row.waiting),
    buffered: Number(row.buffered),
    outboxWaiting: Number(row.outbox_waiting),
    outboxRefused: Number(row.outbox_refused),
    notificationsPending: Number(row.notifications_pending),
    oldestUnclaimedSeconds: age(row.oldest_unclaimed),
    oldestDueDeliverySeconds: age(row.oldest_due_delivery),
    oldestOutboxSeconds: age(row.oldest_outbox),
  };
}
