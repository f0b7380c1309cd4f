import type { FailureClass } from '../domain/delivery.js';
import { run, type Queryable, type ResultSetHeader, type RowDataPacket } from './database.js';
import { valuesList } from './sqlValues.js';

/** One HTTP try of one delivery, as the attempt log keeps it. */
export interface AttemptRecord {
  deliveryId: number;
  webhookId: number;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  failureClass: FailureClass | null;
  error: string | null;
  response: string | null;
  worker: string;
}

/**
 * Records attempts. `ignore`: an attempt whose delivery is gone (erased, or its
 * webhook deleted, while the attempt was in flight) is skipped by the foreign
 * key instead of failing the round, so no copy of its answer is kept.
 */
export async function insertAttempts(tx: Queryable, attempts: AttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  const rows = valuesList(tx, attempts.map((a) => [a.deliveryId, a.webhookId, a.attemptedAt, Math.round(a.durationMs), a.statusCode, a.succeeded ? 1 : 0, a.failureClass, a.error?.slice(0, 500) ?? null, a.response, a.worker]));
  await run(tx, `insert ignore into attempts (delivery_id, webhook_id, attempted_at, duration_ms, status_code, succeeded, failure_class, error, response, worker) values ${rows}`, []);
}

export async function purgeOldAttempts(db: Queryable, attemptedBefore: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>('delete from attempts where attempted_at < ? limit ?', [attemptedBefore, limit]);
  return result.affectedRows;
}

export interface AttemptView {
  attemptedAt: Date;
  deliveryId: number;
  statusCode: number | null;
  succeeded: boolean;
  durationMs: number;
  failureClass: string | null;
  error: string | null;
}

export async function recentAttempts(db: Queryable, webhookId: number, limit: number): Promise<AttemptView[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select a.attempted_at, a.delivery_id, a.status_code, a.succeeded, a.duration_ms, a.failure_class, a.error
     from attempts a where a.webhook_id = ? order by a.id desc limit ?`,
    [webhookId, limit],
  );
  return rows.map((row) => ({
    attemptedAt: row.attempted_at,
    deliveryId: Number(row.delivery_id),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    succeeded: row.succeeded === 1,
    durationMs: Number(row.duration_ms),
    failureClass: row.failure_class,
    error: row.error,
  }));
}

/** One attempt as GetWebHookDeliveryAttempts shows it. */
export interface DeliveryAttempt {
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  failureClass: string | null;
  error: string | null;
  response: string | null;
}

/** A delivery's attempts, oldest first, while the attempt log keeps them. */
export async function attemptsOfDelivery(db: Queryable, deliveryId: number): Promise<DeliveryAttempt[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'select a.attempted_at, a.duration_ms, a.status_code, a.failure_class, a.error, a.response from attempts a where a.delivery_id = ? order by a.id',
    [deliveryId],
  );
  return rows.map((row) => ({
    attemptedAt: row.attempted_at,
    durationMs: Number(row.duration_ms),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    failureClass: row.failure_class,
    error: row.error,
    response: row.response,
  }));
}

/** Each webhook's last attempt, for an account's overview. */
export async function lastAttemptsOfAccount(db: Queryable, accountId: number): Promise<Map<number, { at: Date; succeeded: boolean; statusCode: number | null }>> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select a.webhook_id, a.attempted_at, a.succeeded, a.status_code from attempts a
     where a.id in (select max(l.id) from attempts l join webhooks w on w.id = l.webhook_id where w.account_id = ? group by l.webhook_id)`,
    [accountId],
  );
  return new Map(rows.map((row) => [Number(row.webhook_id), { at: row.attempted_at, succeeded: row.succeeded === 1, statusCode: row.status_code === null ? null : Number(row.status_code) }]));
}
