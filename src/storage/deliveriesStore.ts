import type { DeliveryStatus } from '../domain/delivery.js';
import type { Sequence } from '../domain/signature.js';
import type { EventName } from '../domain/webhook.js';
import { sendingTargetColumns, sendingTargetOf, type SendingTarget } from './webhooksStore.js';
import { run, selectRows, type Queryable, type ResultSetHeader, type RowDataPacket } from './database.js';
import { outsideLanes, type BackingOffLanes } from './webhookLifecycleStore.js';

export interface PendingDelivery {
  id: number;
  event: EventName;
  subscriber: string | null;
  payload: string;
  /** Failed attempts of this delivery in its lane in a row. */
  failures: number;
  /** Null for deliveries the previous release made: they go out without sequence headers. */
  sequence: Sequence | null;
}

/**
 * A round's deliveries and where they go as the webhook is now: a rotated
 * secret, a changed URL or headers take effect from the next round, while
 * the attempts in flight finish as they started.
 */
export interface PendingRound {
  deliveries: PendingDelivery[];
  target: SendingTarget | undefined;
}

/** What one round loads. */
export interface RoundLimits {
  /** Deliveries from the head of the queue. */
  rows: number;
  /** Payload bytes from the head of the queue (the first delivery always comes). */
  bytes: number;
  /** Deliveries from the tail of the queue that may go beside the head (0: none). */
  beside: number;
}

const pendingColumns = 'd.id, d.event_id, d.occurred_at, d.failures, d.sequence, d.previous_sequence, ev.event, ev.subscriber, ev.payload_bytes';

/**
 * A webhook's next pending deliveries. First the head of the queue, oldest
 * event first: at most `rows`, and no more than fit in `bytes` of payload (the
 * first always comes, so one large payload cannot stop a webhook). The sizes
 * come from events.payload_bytes, so payloads that are not taken are not read.
 * The lanes in `skip` are left out (each one's head waits for its retry, and
 * the rest of the lane waits behind it); without it every lane comes.
 * When more waits than the head holds (a replay, a recovery), live events go
 * beside it: among the newest `beside` pending deliveries, those whose lane
 * has nothing older waiting come first in the round, so that a subscriber
 * with nothing in the backlog does not wait for the backlog.
 */
export async function loadPendingDeliveries(db: Queryable, webhookId: number, limits: RoundLimits, skip: BackingOffLanes | null): Promise<PendingRound> {
  const [outside, outsideParams] = skip ? outsideLanes('ev.subscriber', skip) : ['true', []];
  // The limit comes before the running sum, so that a round reads its head of the queue, not the whole backlog.
  const head = await selectRows(
    db,
    `select q.id, q.event, q.subscriber, q.failures, q.sequence, q.previous_sequence, q.occurred_at, e.payload, ${sendingTargetColumns} from (
       select h.*, sum(h.payload_bytes) over (order by h.occurred_at, h.id) as running_bytes from (
         select ${pendingColumns}
         from deliveries d force index (ix_deliveries_queue) join events ev on ev.id = d.event_id
         where d.webhook_id = ? and d.status = 'pending' and ${outside}
         order by d.occurred_at, d.id limit ?) h) q
     join events e on e.id = q.event_id
     join webhooks w on w.id = ?
     where q.running_bytes - q.payload_bytes < ?
     order by q.occurred_at, q.id`,
    [webhookId, ...outsideParams, limits.rows, webhookId, limits.bytes],
  );
  const beside = head.length === limits.rows && limits.beside > 0 ? await selectBeside(db, webhookId, limits, head, [outside, outsideParams]) : [];
  return { deliveries: [...beside, ...head].map(pendingDeliveryOf), target: head[0] ? sendingTargetOf(head[0]) : undefined };
}

const before = (row: RowDataPacket, than: RowDataPacket) => row.occurred_at < than.occurred_at || (row.occurred_at.getTime() === than.occurred_at.getTime() && Number(row.id) < Number(than.id));

/**
 * The newest pending deliveries whose lane has nothing older pending, within
 * a quarter of the round's bytes. A lane in the head has (the head is older
 * than any delivery outside it), so those are left out first; whether the
 * others' lanes have something older is one look at what lies between the
 * head and them, whatever their number. Key-less deliveries (one lane of
 * possibly many events) stay in the queue.
 */
async function selectBeside(db: Queryable, webhookId: number, limits: RoundLimits, head: RowDataPacket[], [outside, outsideParams]: [string, unknown[]]): Promise<RowDataPacket[]> {
  const newest = await selectRows(
    db,
    `select ${pendingColumns} from deliveries d force index (ix_deliveries_queue) join events ev on ev.id = d.event_id
     where d.webhook_id = ? and d.status = 'pending' and ${outside}
     order by d.occurred_at desc, d.id desc limit ?`,
    [webhookId, ...outsideParams, limits.beside],
  );
  const headLanes = new Set(head.map((row) => row.subscriber));
  const last = head.at(-1)!;
  const candidates = newest.filter((row) => row.subscriber !== null && !headLanes.has(row.subscriber) && before(last, row)).reverse();
  if (candidates.length === 0) return [];
  const first = candidates[0]!;
  const waiting = await selectRows(
    db,
    `select distinct ev.subscriber from deliveries d force index (ix_deliveries_queue) join events ev on ev.id = d.event_id
     where d.webhook_id = ? and d.status = 'pending' and ev.subscriber in (?)
       and (d.occurred_at > ? or (d.occurred_at = ? and d.id > ?)) and (d.occurred_at < ? or (d.occurred_at = ? and d.id < ?))`,
    [webhookId, [...new Set(candidates.map((row) => row.subscriber))], last.occurred_at, last.occurred_at, last.id, first.occurred_at, first.occurred_at, first.id],
  );
  const behindOlder = new Set(waiting.map((row) => row.subscriber));
  let bytes = 0;
  const taken = candidates.filter((row) => {
    if (behindOlder.has(row.subscriber)) return false;
    bytes += Number(row.payload_bytes);
    return bytes <= limits.bytes / 4;
  });
  if (taken.length === 0) return [];
  const [payloads] = await db.query<RowDataPacket[]>('select e.id, e.payload from events e where e.id in (?)', [taken.map((row) => row.event_id)]);
  const payloadOf = new Map(payloads.map((row) => [Number(row.id), row.payload]));
  return taken.map((row) => ({ ...row, payload: payloadOf.get(Number(row.event_id)) }));
}

function pendingDeliveryOf(row: RowDataPacket): PendingDelivery {
  return {
    id: Number(row.id), event: row.event, subscriber: row.subscriber, payload: row.payload, failures: Number(row.failures),
    sequence: row.sequence === null ? null : { sequence: Number(row.sequence), previousSequence: Number(row.previous_sequence ?? 0) },
  };
}

// A round's deliveries are named by id. Statistics of a table that filled up
// shortly before a crash say it is empty; the optimizer then walks the status
// key instead, locking every pending delivery of every webhook, and concurrent
// rounds deadlock. The primary key is named so that no statistics can do that.
const byIds = 'deliveries force index (primary)';

export async function markDeliveriesDelivered(tx: Queryable, ids: number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await run(tx, `update ${byIds} set status = 'delivered', attempts = attempts + 1, finished_at = ? where id in (?) and status = 'pending'`, [now, ids]);
}

/** The delivery is still stored (of that webhook, when one is named). */
export async function deliveryExists(db: Queryable, id: number, webhookId?: number): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select 1 from deliveries d where d.id = ? ${webhookId === undefined ? '' : 'and d.webhook_id = ?'}`,
    webhookId === undefined ? [id] : [id, webhookId],
  );
  return rows.length > 0;
}

/** Failed attempts stay pending, counted. */
export async function countFailedAttempts(tx: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`update ${byIds} set attempts = attempts + 1 where id in (?)`, [ids]);
}

/** A failed delivery's lane backs off: it, and its subscriber's later events behind it, wait until `retryAt`. */
export async function backOffLane(tx: Queryable, deliveryId: number, lane: { failures: number; retryAt: Date }): Promise<void> {
  await tx.query("update deliveries set failures = ?, retry_at = ? where id = ? and status = 'pending'", [lane.failures, lane.retryAt, deliveryId]);
}

/** Given up for good after its lane failed too often: finished as failed, its lane moves on. */
export async function giveUpDeliveries(tx: Queryable, ids: number[], failures: number, now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`update ${byIds} set status = 'failed', failures = ?, retry_at = null, finished_at = ? where id in (?) and status = 'pending'`, [failures, now, ids]);
}

/** The endpoint is back: every lane of the webhook may go again at once. */
export async function reopenLanes(tx: Queryable, webhookId: number): Promise<void> {
  await tx.query("update deliveries set retry_at = null where webhook_id = ? and status = 'pending' and retry_at is not null", [webhookId]);
}

/** On deactivation, what waits becomes buffered. */
export async function bufferPendingDeliveries(tx: Queryable, webhookId: number): Promise<void> {
  await tx.query("update deliveries set status = 'buffered', retry_at = null where webhook_id = ? and status = 'pending'", [webhookId]);
}

/** Replay: buffered deliveries wait again, in their original order, ahead of anything newer, with a clean lane record. */
export async function requeueBufferedDeliveries(db: Queryable, webhookId: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'pending', failures = 0, retry_at = null where webhook_id = ? and status = 'buffered'",
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

/** A delivery as support and customers see it, with its last attempt (while the attempt log keeps it). */
export interface DeliveryView {
  id: number;
  event: EventName;
  subscriber: string | null;
  occurredAt: Date;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastFailureClass: string | null;
  lastError: string | null;
  /** Only when asked for; null once PAYLOAD_RETENTION_DAYS have passed. */
  payload?: string | null;
}

/** Which deliveries of a webhook: of one state, one subscriber, or the one a webhook-id names. */
export interface DeliveryFilter {
  status?: DeliveryStatus;
  subscriber?: string;
  deliveryId?: number;
}

/** A webhook's deliveries, newest event first. */
export async function listDeliveries(
  db: Queryable,
  webhookId: number,
  options: DeliveryFilter & { limit: number; withPayload?: boolean },
): Promise<DeliveryView[]> {
  const rows = await selectRows(
    db,
    `select d.id, e.event, e.subscriber, e.occurred_at, d.status, d.attempts, a.attempted_at, a.status_code, a.failure_class, a.error
       ${options.withPayload ? ', e.payload' : ''}
     from deliveries d join events e on e.id = d.event_id
     left join attempts a on a.id = (select max(last.id) from attempts last where last.delivery_id = d.id)
     where d.webhook_id = ? ${options.status ? 'and d.status = ?' : ''} ${options.deliveryId ? 'and d.id = ?' : ''} ${options.subscriber ? 'and e.subscriber = ?' : ''}
     order by e.occurred_at desc, d.id desc limit ?`,
    [webhookId, ...[options.status, options.deliveryId, options.subscriber].filter((value) => value !== undefined && value !== ''), options.limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    event: row.event,
    subscriber: row.subscriber ?? null,
    occurredAt: row.occurred_at,
    status: row.status,
    attempts: Number(row.attempts),
    lastAttemptAt: row.attempted_at ?? null,
    lastStatusCode: row.status_code === null || row.status_code === undefined ? null : Number(row.status_code),
    lastFailureClass: row.failure_class ?? null,
    lastError: row.error ?? null,
    ...(options.withPayload ? { payload: row.payload ?? null } : {}),
  }));
}

/** The statuses a customer may send again: finished ones. */
export const resendableStatuses: DeliveryStatus[] = ['delivered', 'failed', 'discarded'];

/**
 * A finished delivery waits again, with a clean lane record and its
 * webhook-id and sequence, behind the waiting events of its webhook (its
 * place in the queue becomes `now`). Only while its payload is kept. Returns
 * whether it was queued.
 */
export async function requeueFinishedDelivery(tx: Queryable, webhookId: number, deliveryId: number, now: Date): Promise<boolean> {
  const [result] = await tx.query<ResultSetHeader>(
    `update deliveries d join events e on e.id = d.event_id
     set d.status = 'pending', d.failures = 0, d.retry_at = null, d.finished_at = null, d.occurred_at = ?
     where d.id = ? and d.webhook_id = ? and d.status in (?) and e.payload is not null`,
    [now, deliveryId, webhookId, resendableStatuses],
  );
  return result.affectedRows === 1;
}

/** The given-up and discarded deliveries of a webhook whose event happened in [since, until), with their payload kept. */
const recoverable = "d.webhook_id = ? and d.status in ('failed', 'discarded') and e.occurred_at >= ? and e.occurred_at < ? and e.payload is not null";

export async function countRecoverableDeliveries(tx: Queryable, webhookId: number, window: { since: Date; until: Date }): Promise<number> {
  const [rows] = await tx.query<RowDataPacket[]>(`select count(*) as n from deliveries d join events e on e.id = d.event_id where ${recoverable}`, [webhookId, window.since, window.until]);
  return Number(rows[0]!.n);
}

/**
 * Recovery: every recoverable delivery of the window waits again, behind the
 * webhook's waiting events, in the order they were accepted (one place in the
 * queue, `now`, and their ids after it). Returns how many.
 */
export async function requeueRecoverableDeliveries(tx: Queryable, webhookId: number, window: { since: Date; until: Date }, now: Date): Promise<number> {
  const [result] = await tx.query<ResultSetHeader>(
    `update deliveries d join events e on e.id = d.event_id
     set d.status = 'pending', d.failures = 0, d.retry_at = null, d.finished_at = null, d.occurred_at = ?
     where ${recoverable}`,
    [now, webhookId, window.since, window.until],
  );
  return result.affectedRows;
}

export async function purgeFinishedDeliveries(db: Queryable, finishedBefore: Date, limit: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "delete from deliveries where status in ('delivered', 'discarded', 'failed') and finished_at < ? limit ?",
    [finishedBefore, limit],
  );
  return result.affectedRows;
}
