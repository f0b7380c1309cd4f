import type { FailureClass } from '../domain/delivery.js';
import type { EventName } from '../domain/webhook.js';
import type { Queryable, ResultSetHeader, RowDataPacket } from './database.js';

export interface ClaimedWebhook {
  id: number;
  accountId: number;
  url: string;
  secret: string;
  failureCount: number;
}

/**
 * Leases due webhooks to one worker: rows another worker holds are skipped,
 * and a lease whose holder died is taken over once it has expired. Must run
 * inside a transaction; the caller commits at once and sends afterwards.
 */
export async function claimDueWebhooks(
  tx: Queryable,
  worker: string,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<ClaimedWebhook[]> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `select w.id, w.account_id, w.url, w.secret, w.failure_count from webhooks w
     where w.due_at <= ? and (w.locked_until is null or w.locked_until < ?)
     order by w.due_at limit ? for update skip locked`,
    [now, now, limit],
  );
  if (rows.length === 0) return [];
  await tx.query('update webhooks set locked_by = ?, locked_until = ? where id in (?)', [worker, leaseUntil, rows.map((row) => row.id)]);
  return rows.map((row) => ({
    id: Number(row.id),
    accountId: Number(row.account_id),
    url: row.url,
    secret: row.secret,
    failureCount: Number(row.failure_count),
  }));
}

export interface PendingDelivery {
  id: number;
  webhookId: number;
  event: EventName;
  payload: string;
}

/** The next pending deliveries of each webhook, oldest event first. */
export async function loadPendingDeliveries(db: Queryable, webhookIds: number[], perWebhook: number): Promise<Map<number, PendingDelivery[]>> {
  const batches = new Map<number, PendingDelivery[]>(webhookIds.map((id) => [id, []]));
  if (webhookIds.length === 0) return batches;
  // One index range per webhook (ix_deliveries_queue), all in one round trip.
  const oneWebhook = `(select d.id, d.webhook_id, e.event, e.payload from deliveries d join events e on e.id = d.event_id
     where d.webhook_id = ? and d.status = 'pending' order by d.occurred_at, d.id limit ?)`;
  const [rows] = await db.query<RowDataPacket[]>(
    webhookIds.map(() => oneWebhook).join(' union all '),
    webhookIds.flatMap((id) => [id, perWebhook]),
  );
  for (const row of rows) {
    batches.get(Number(row.webhook_id))!.push({ id: Number(row.id), webhookId: Number(row.webhook_id), event: row.event, payload: row.payload });
  }
  return batches;
}

/** Locks the webhook row if this worker still holds its lease; false when another worker took over. */
export async function holdsLease(tx: Queryable, webhookId: number, worker: string): Promise<boolean> {
  const [rows] = await tx.query<RowDataPacket[]>('select w.id from webhooks w where w.id = ? and w.locked_by = ? for update', [webhookId, worker]);
  return rows.length === 1;
}

export async function markDeliveriesDelivered(tx: Queryable, ids: number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    "update deliveries set status = 'delivered', attempts = attempts + 1, finished_at = ? where id in (?) and status = 'pending'",
    [now, ids],
  );
}

export async function countDeliveryAttempt(tx: Queryable, id: number): Promise<void> {
  await tx.query('update deliveries set attempts = attempts + 1 where id = ?', [id]);
}

export interface AttemptRecord {
  deliveryId: number;
  webhookId: number;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  failureClass: FailureClass | null;
  error: string | null;
  worker: string;
}

export async function insertAttempts(tx: Queryable, attempts: AttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  await tx.query(
    `insert into attempts (delivery_id, webhook_id, attempted_at, duration_ms, status_code, succeeded, failure_class, error, worker) values ?`,
    [attempts.map((a) => [a.deliveryId, a.webhookId, a.attemptedAt, Math.round(a.durationMs), a.statusCode, a.succeeded ? 1 : 0, a.failureClass, a.error?.slice(0, 500) ?? null, a.worker])],
  );
}

/** A healthy webhook (or one whose worker stops early) is released, due again at once if deliveries wait. */
export async function releaseHealthyWebhook(tx: Queryable, webhookId: number, resetFailures: boolean, now: Date): Promise<void> {
  await tx.query(
    `update webhooks w set w.locked_by = null, w.locked_until = null,
       w.failure_count = if(?, 0, w.failure_count), w.first_failure_at = if(?, null, w.first_failure_at),
       w.due_at = if(exists(select 1 from deliveries d where d.webhook_id = w.id and d.status = 'pending'), ?, null)
     where w.id = ?`,
    [resetFailures, resetFailures, now, webhookId],
  );
}

// A run of failures starts with its first one (a success in between resets the
// count to 0), so failure_count = 1 dates the run anew.
const setFirstFailureAt = 'w.first_failure_at = if(? = 1, ?, coalesce(w.first_failure_at, ?))';

/** After a failed attempt: back off until nextAttemptAt. */
export async function releaseFailingWebhook(
  tx: Queryable,
  webhookId: number,
  failure: { failureCount: number; lastError: string; nextAttemptAt: Date; failedAt: Date },
): Promise<void> {
  await tx.query(
    `update webhooks w set w.locked_by = null, w.locked_until = null, w.failure_count = ?, w.last_error = ?,
       ${setFirstFailureAt}, w.due_at = ?
     where w.id = ?`,
    [failure.failureCount, failure.lastError.slice(0, 500), failure.failureCount, failure.failedAt, failure.failedAt, failure.nextAttemptAt, webhookId],
  );
}

/**
 * Deactivation: no longer due, counted, and its waiting deliveries become
 * buffered. Returns the deactivation's number and when the failures began.
 */
export async function deactivateWebhook(
  tx: Queryable,
  webhookId: number,
  failure: { failureCount: number; lastError: string; failedAt: Date },
): Promise<{ deactivation: number; firstFailureAt: Date }> {
  await tx.query(
    `update webhooks w set w.active = 0, w.deactivated_at = ?, w.deactivations = w.deactivations + 1,
       w.locked_by = null, w.locked_until = null, w.due_at = null, w.failure_count = ?, w.last_error = ?,
       ${setFirstFailureAt}
     where w.id = ?`,
    [failure.failedAt, failure.failureCount, failure.lastError.slice(0, 500), failure.failureCount, failure.failedAt, failure.failedAt, webhookId],
  );
  await tx.query("update deliveries set status = 'buffered' where webhook_id = ? and status = 'pending'", [webhookId]);
  const [rows] = await tx.query<RowDataPacket[]>('select w.deactivations, w.first_failure_at from webhooks w where w.id = ?', [webhookId]);
  return { deactivation: Number(rows[0]!.deactivations), firstFailureAt: rows[0]!.first_failure_at };
}

/** Replay: buffered deliveries wait again, in their original order, ahead of anything newer. */
export async function requeueBufferedDeliveries(db: Queryable, webhookId: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'pending' where webhook_id = ? and status = 'buffered'",
    [webhookId],
  );
  return result.affectedRows;
}

export async function discardBufferedDeliveries(db: Queryable, webhookId: number, now: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'discarded', finished_at = ? where webhook_id = ? and status = 'buffered'",
    [now, webhookId],
  );
  return result.affectedRows;
}

/** Buffered deliveries older than the retention period are given up. */
export async function purgeOldBufferedDeliveries(db: Queryable, createdBefore: Date, now: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'discarded', finished_at = ? where status = 'buffered' and created_at < ?",
    [now, createdBefore],
  );
  return result.affectedRows;
}

export async function purgeFinishedDeliveries(db: Queryable, finishedBefore: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "delete from deliveries where status in ('delivered', 'discarded') and finished_at < ? limit ?",
    [finishedBefore, limit],
  );
  return result.affectedRows;
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
