import { randomBytes } from 'node:crypto';
import type { EndpointHealth } from '../domain/failurePolicy.js';
import type { CountingWebhook, WebhookCounters } from '../domain/fanOut.js';
import { run, withConflictRetry, type Queryable, type ResultSetHeader, type RowDataPacket } from './database.js';

/**
 * Every change of a webhook's delivery state, in one place: made due by an
 * event, claimed under a lease, the lease renewed or extended, released,
 * backed off, deactivated, activated. A lease is fenced by its token: only
 * the claim that wrote the token can renew it or record under it.
 */

export interface ClaimedWebhook {
  id: number;
  accountId: number;
  url: string;
  health: EndpointHealth;
  /** The latest retry any lane was given: after it, no lane backs off. Only the lease holder moves it. */
  laneRetryAt: Date | null;
  createdVia: 'webservice' | 'zapier';
  /** The customer's throttle; null: none. */
  maxPerSecond: number | null;
}

export interface Lease {
  token: string;
  until: Date;
}

/** A lease with a token of its own, so that no other claim can pass for it. */
export function newLease(now: Date, leaseMs: number): Lease {
  return { token: randomBytes(12).toString('hex'), until: new Date(now.getTime() + leaseMs) };
}

// "not in ()" is not SQL; 0 is never an id.
const noneOf = (ids: number[]) => (ids.length ? ids : [0]);

/** One index probe without locks: is any webhook due that nobody holds? Keeps an idle worker's poll to one query. */
export async function anyWebhookClaimable(db: Queryable, now: Date): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>(
    'select 1 from webhooks w where w.due_at <= ? and (w.locked_until is null or w.locked_until < ?) limit 1',
    [now, now],
  );
  return rows.length > 0;
}

/**
 * Due webhooks that nobody holds, or whose holder's lease ran out, oldest due
 * first, locked for this transaction (rows another claim has locked are
 * skipped). The caller leases those it takes with leaseWebhooks in the same
 * transaction; the others are free again at commit.
 */
export async function selectClaimableWebhooks(
  tx: Queryable,
  filter: { now: Date; limit: number; excludeIds: number[]; excludeAccounts: number[] },
): Promise<ClaimedWebhook[]> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `select ${claimedColumns} from webhooks w
     where w.due_at <= ? and (w.locked_until is null or w.locked_until < ?)
       and w.id not in (?) and w.account_id not in (?)
     order by w.due_at limit ? for update skip locked`,
    [filter.now, filter.now, noneOf(filter.excludeIds), noneOf(filter.excludeAccounts), filter.limit],
  );
  return rows.map(toClaimedWebhook);
}

const claimedColumns = 'w.id, w.account_id, w.url, w.failure_count, w.failure_step_at, w.first_failure_at, w.failure_streak, w.circuit_open, w.lane_retry_at, w.created_via, w.max_per_second';

function toClaimedWebhook(row: RowDataPacket): ClaimedWebhook {
  const health: EndpointHealth = {
    failedSteps: Number(row.failure_count),
    stepStartedAt: row.failure_step_at ?? null,
    runStartedAt: row.first_failure_at ?? null,
    failureStreak: Number(row.failure_streak),
    circuitOpen: Boolean(row.circuit_open),
  };
  return { id: Number(row.id), accountId: Number(row.account_id), url: row.url, health, laneRetryAt: row.lane_retry_at ?? null, createdVia: row.created_via,
    maxPerSecond: row.max_per_second === null || row.max_per_second === undefined ? null : Number(row.max_per_second) };
}

/**
 * Hands a lease back early: its holder could not finish its round (the
 * database went away under it), so the webhook is due again at once
 * instead of when the lease runs out. Only under the lease's own token.
 */
export async function handBackLease(db: Queryable, webhookId: number, token: string, now: Date): Promise<void> {
  await db.query(
    `update webhooks w set w.locked_by = null, w.locked_until = null, w.lease_token = null, w.due_at = ${dueNow} where w.id = ? and w.lease_token = ?`,
    [now, now, now, webhookId, token],
  );
}

export async function leaseWebhooks(tx: Queryable, ids: number[], worker: string, lease: Lease): Promise<void> {
  if (ids.length === 0) return;
  await tx.query('update webhooks set locked_by = ?, lease_token = ?, locked_until = ? where id in (?)', [worker, lease.token, lease.until, ids]);
}

/** Pushes the leases out to `until`; returns the ids whose lease still holds (the others were taken over). */
export async function renewLeases(db: Queryable, held: Array<{ id: number; token: string }>, until: Date): Promise<Set<number>> {
  if (held.length === 0) return new Set();
  const pairs = held.map((lease) => [lease.id, lease.token]);
  const [result] = await withConflictRetry(() => db.query<ResultSetHeader>('update webhooks set locked_until = ? where (id, lease_token) in (?)', [until, pairs]));
  if (result.affectedRows === held.length) return new Set(held.map((lease) => lease.id));
  const [rows] = await db.query<RowDataPacket[]>('select w.id from webhooks w where (w.id, w.lease_token) in (?)', [pairs]);
  return new Set(rows.map((row) => Number(row.id)));
}

// Recording a round starts with one of the statements below, or with
// lockLeasedWebhook: each locks the webhook row first (as intake, activation
// and deletion do, so none of them deadlock) and applies only while the
// lease's token is still there, so it is the lease check and the change at
// once. `affectedRows` 0: the lease is lost.
const heldBy = 'w.id = ? and w.lease_token = ?';

/** The subscribers whose lane backs off now; `keyless`: the lane of events without a key. */
export interface BackingOffLanes {
  keys: string[];
  keyless: boolean;
}

/** The lanes of a webhook whose head (the oldest pending delivery) waits for a retry at `now`: one range of the lane index. */
export async function selectBackingOffLanes(db: Queryable, webhookId: number, now: Date): Promise<BackingOffLanes> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select distinct e.subscriber from deliveries b force index (ix_deliveries_lane_backoff) join events e on e.id = b.event_id
     where b.webhook_id = ? and b.status = 'pending' and b.retry_at > ?`,
    [webhookId, now],
  );
  return { keys: rows.filter((row) => row.subscriber !== null).map((row) => String(row.subscriber)), keyless: rows.some((row) => row.subscriber === null) };
}

/** SQL that is true for a subscriber column outside the given lanes ('' is never a key: it stands for none). */
export function outsideLanes(column: string, lanes: BackingOffLanes): [string, unknown[]] {
  return [`not (${column} in (?) or (${column} is null and ?))`, [lanes.keys.length > 0 ? lanes.keys : [''], lanes.keyless]];
}

/**
 * Deliveries that may go now, besides those the round just delivered: pending
 * ones, outside the lanes that back off when there are such lanes.
 */
function sendableBesides(delivered: number[], lanes: BackingOffLanes | null): [string, unknown[]] {
  if (!lanes) return ["exists(select 1 from deliveries p where p.webhook_id = w.id and p.status = 'pending' and p.id not in (?))", [noneOf(delivered)]];
  const [outside, params] = outsideLanes('pe.subscriber', lanes);
  return [
    `exists(select 1 from deliveries p join events pe on pe.id = p.event_id
            where p.webhook_id = w.id and p.status = 'pending' and p.id not in (?) and ${outside})`,
    [noneOf(delivered), ...params],
  ];
}

/**
 * A healthy webhook keeps its lease for another round if deliveries may go
 * besides those this round delivered. False when none may (or the lease is
 * lost): then release it.
 */
export async function extendLeaseIfMoreWaits(tx: Queryable, webhookId: number, lease: Lease, delivered: number[], lanes: BackingOffLanes | null): Promise<boolean> {
  const [sendable, params] = sendableBesides(delivered, lanes);
  const result = await run<ResultSetHeader>(tx, `update webhooks w set w.locked_until = ? where ${heldBy} and ${sendable}`, [lease.until, webhookId, lease.token, ...params]);
  return result.affectedRows === 1;
}

/**
 * Released with its circuit closed (or by a worker that stops): due at once
 * if deliveries may go besides those just delivered, else when the first
 * backing-off lane retries, else never until an event comes.
 */
export async function releaseWebhook(tx: Queryable, webhookId: number, token: string, delivered: number[], lanes: BackingOffLanes | null, now: Date): Promise<boolean> {
  const [sendable, params] = sendableBesides(delivered, lanes);
  const result = await run<ResultSetHeader>(
    tx,
    `update webhooks w set w.locked_by = null, w.locked_until = null, w.lease_token = null,
       w.due_at = if(${sendable}, ?, ${lanes ? "(select min(b.retry_at) from deliveries b where b.webhook_id = w.id and b.status = 'pending' and b.retry_at > ?)" : 'null'})
     where ${heldBy}`,
    [...params, now, ...(lanes ? [now] : []), webhookId, token],
  );
  return result.affectedRows === 1;
}

/** The endpoint's health after a round, and the text of its last failure when it had one. Under a lease already checked. */
export async function recordEndpointHealth(
  tx: Queryable,
  webhookId: number,
  change: { health: EndpointHealth; lastError: string | undefined; runsStarted: number },
): Promise<void> {
  const { health } = change;
  await tx.query(
    `update webhooks w set w.failure_count = ?, w.failure_step_at = ?, w.first_failure_at = ?, w.failure_streak = ?, w.circuit_open = ?,
       w.failure_runs = w.failure_runs + ?, w.last_error = coalesce(?, w.last_error)
     where w.id = ?`,
    [health.failedSteps, health.stepStartedAt, health.runStartedAt, health.failureStreak, health.circuitOpen, change.runsStarted, change.lastError?.slice(0, 500) ?? null, webhookId],
  );
}

/** A lane backs off until `retryAt`: rounds skip lanes only while some retry lies ahead (lane_retry_at). */
export async function noteLaneRetry(tx: Queryable, webhookId: number, retryAt: Date): Promise<void> {
  await tx.query('update webhooks w set w.lane_retry_at = greatest(coalesce(w.lane_retry_at, ?), ?) where w.id = ?', [retryAt, retryAt, webhookId]);
}

/** The endpoint is down: released, and not due before the next probe. */
export async function backOffWebhook(tx: Queryable, webhookId: number, token: string, nextAttemptAt: Date): Promise<boolean> {
  const [result] = await tx.query<ResultSetHeader>(
    `update webhooks w set w.locked_by = null, w.locked_until = null, w.lease_token = null, w.due_at = ? where ${heldBy}`,
    [nextAttemptAt, webhookId, token],
  );
  return result.affectedRows === 1;
}

/**
 * Deactivated: no longer due, counted. Returns the deactivation's number and
 * when its failures began; undefined when the lease is lost.
 */
export async function deactivateWebhook(tx: Queryable, webhookId: number, token: string, at: Date): Promise<{ deactivation: number; firstFailureAt: Date } | undefined> {
  const [result] = await tx.query<ResultSetHeader>(
    `update webhooks w set w.active = 0, w.deactivated_at = ?, w.deactivations = w.deactivations + 1,
       w.locked_by = null, w.locked_until = null, w.lease_token = null, w.due_at = null, w.first_failure_at = coalesce(w.first_failure_at, ?)
     where ${heldBy}`,
    [at, at, webhookId, token],
  );
  if (result.affectedRows !== 1) return undefined;
  const [rows] = await tx.query<RowDataPacket[]>('select w.deactivations, w.first_failure_at from webhooks w where w.id = ?', [webhookId]);
  return { deactivation: Number(rows[0]!.deactivations), firstFailureAt: rows[0]!.first_failure_at };
}

/** The run of failures the webhook is in: its number, when it began, and the deactivation count it follows. */
export async function currentFailureRun(tx: Queryable, webhookId: number): Promise<{ run: number; firstFailureAt: Date; deactivations: number }> {
  const [rows] = await tx.query<RowDataPacket[]>('select w.failure_runs, w.first_failure_at, w.deactivations from webhooks w where w.id = ?', [webhookId]);
  return { run: Number(rows[0]!.failure_runs), firstFailureAt: rows[0]!.first_failure_at, deactivations: Number(rows[0]!.deactivations) };
}

/** A REST hook whose receiver answered 410 Gone is deleted (its deliveries and attempts go with it). */
export async function deleteUnsubscribedWebhook(tx: Queryable, webhookId: number, token: string): Promise<boolean> {
  const [result] = await tx.query<ResultSetHeader>(`delete w from webhooks w where ${heldBy}`, [webhookId, token]);
  return result.affectedRows === 1;
}

/** Locks the webhook row if this lease still holds it. */
export async function lockLeasedWebhook(tx: Queryable, webhookId: number, token: string): Promise<boolean> {
  const [rows] = await tx.query<RowDataPacket[]>(`select w.id from webhooks w where ${heldBy} for update`, [webhookId, token]);
  return rows.length === 1;
}

/**
 * Active again with a clean failure record; due at once when deliveries wait
 * (replayed ones, or none), and every lease from before is void.
 */
export async function markWebhookActivated(db: Queryable, id: number, now: Date): Promise<void> {
  await db.query(
    `update webhooks w set w.active = 1, w.deactivated_at = null, w.failure_count = 0, w.first_failure_at = null,
       w.failure_step_at = null, w.failure_streak = 0, w.circuit_open = 0, w.lane_retry_at = null,
       w.locked_by = null, w.locked_until = null, w.lease_token = null,
       w.due_at = if(exists(select 1 from deliveries d where d.webhook_id = w.id and d.status = 'pending'), ?, null)
     where w.id = ?`,
    [now, id],
  );
}

/**
 * A new URL is a new endpoint: its failure record, the circuit and every
 * lane's backoff start clean; an active webhook with deliveries waiting is
 * due at once. A healthy webhook's lease stands: its holder's attempts under
 * way finish on the old URL and are recorded, and its next round reads the
 * new one. A failing webhook's lease is void, so that its holder cannot
 * write the old URL's failures over the clean record (what it has in flight
 * goes again, at least once). Activation stays the customer's step.
 */
export async function restartAtNewUrl(tx: Queryable, id: number, now: Date): Promise<void> {
  await tx.query("update deliveries set failures = 0, retry_at = null where webhook_id = ? and status = 'pending' and (failures > 0 or retry_at is not null)", [id]);
  // Left to right: the lease is judged by the health before it is reset.
  const failing = '(w.failure_streak > 0 or w.circuit_open = 1)';
  await tx.query(
    `update webhooks w set w.locked_by = if(${failing}, null, w.locked_by), w.locked_until = if(${failing}, null, w.locked_until),
       w.lease_token = if(${failing}, null, w.lease_token),
       w.failure_count = 0, w.first_failure_at = null, w.failure_step_at = null, w.failure_streak = 0, w.circuit_open = 0, w.lane_retry_at = null,
       w.due_at = if(w.active = 1 and exists(select 1 from deliveries d where d.webhook_id = w.id and d.status = 'pending'), ?, w.due_at)
     where w.id = ?`,
    [now, id],
  );
}

// Due now for new work, unless the endpoint is down: then its next probe stands. Parameters: now, now, now.
const dueNow = 'if(w.circuit_open = 1, coalesce(w.due_at, ?), least(coalesce(w.due_at, ?), ?))';

/** A webhook an event of the batch may go to, locked by the intake. */
export interface ReceivingWebhook {
  counting: CountingWebhook;
  claimed: ClaimedWebhook;
  /**
   * Active, its last attempt not a failure (a failing endpoint is the workers'
   * business, as its next round starts with one attempt) and held by nobody:
   * the intake may lease it for direct delivery.
   */
  sendableNow: boolean;
}

/**
 * Locks every webhook of the given accounts and events, in index order (as
 * every intake does, so concurrent intakes do not deadlock), so that fan-out
 * numbers from counters nobody else moves until the commit, and sees the state
 * an activation or deactivation running at the same moment commits.
 */
export async function lockWebhooksOfEvents(tx: Queryable, kinds: Array<{ accountId: number; event: string }>, now: Date): Promise<ReceivingWebhook[]> {
  if (kinds.length === 0) return [];
  const [rows] = await tx.query<RowDataPacket[]>(
    `select ${claimedColumns}, w.event, w.active, w.deactivated_at, w.last_sequence, w.last_keyless_sequence, w.previous_keyless_sequence, w.locked_until
     from webhooks w where ${kinds.map(() => '(w.account_id = ? and w.event = ?)').join(' or ')}
     order by w.account_id, w.event, w.id for update`,
    kinds.flatMap((kind) => [kind.accountId, kind.event]),
  );
  return rows.map((row) => {
    const claimed = toClaimedWebhook(row);
    const counting: CountingWebhook = {
      id: claimed.id, accountId: claimed.accountId, event: row.event, active: Boolean(row.active), deactivatedAt: row.deactivated_at ?? null,
      lastSequence: Number(row.last_sequence), lastKeylessSequence: Number(row.last_keyless_sequence), previousKeylessSequence: Number(row.previous_keyless_sequence),
    };
    const held = row.locked_until !== null && row.locked_until >= now;
    return { counting, claimed, sendableNow: counting.active && claimed.health.failureStreak === 0 && !claimed.health.circuitOpen && !held };
  });
}

/** `case w.id when … then … end` over a map from webhook id to value. */
function byWebhook<T>(values: Map<number, T>, pick: (value: T) => unknown): [string, unknown[]] {
  const ids = [...values.keys()];
  return [`case w.id ${ids.map(() => 'when ? then ?').join(' ')} end`, ids.flatMap((id) => [id, pick(values.get(id)!)])];
}

/**
 * After fan-out, under lockWebhooksOfEvents' locks: each webhook's counters
 * as planned, and the active ones due now (unless they wait out a down
 * endpoint's backoff; a lane that backs off is the round's business).
 */
export async function recordFanOut(tx: Queryable, counters: Map<number, WebhookCounters>, now: Date): Promise<void> {
  if (counters.size === 0) return;
  const [last, lastKeyless, previousKeyless, dropped] = [
    byWebhook(counters, (c) => c.lastSequence),
    byWebhook(counters, (c) => c.lastKeylessSequence),
    byWebhook(counters, (c) => c.previousKeylessSequence),
    byWebhook(counters, (c) => c.droppedEvents),
  ];
  await tx.query(
    `update webhooks w
     set w.due_at = if(w.active = 0, w.due_at, ${dueNow}),
         w.last_sequence = ${last[0]}, w.last_keyless_sequence = ${lastKeyless[0]}, w.previous_keyless_sequence = ${previousKeyless[0]},
         w.dropped_events = w.dropped_events + ${dropped[0]}
     where w.id in (?)`,
    [now, now, now, ...last[1], ...lastKeyless[1], ...previousKeyless[1], ...dropped[1], [...counters.keys()]],
  );
}

/** Deliveries were queued again (a resend, a recovery): due at once, unless the endpoint is down and waits for its probe. */
export async function makeWebhookDue(tx: Queryable, webhookId: number, now: Date): Promise<void> {
  await tx.query(`update webhooks w set w.due_at = ${dueNow} where w.id = ?`, [now, now, now, webhookId]);
}
