import type { Queryable, RowDataPacket } from './database.js';

export interface DeactivationDetails {
  reason: 'failures' | 'gone';
  lastError: string;
  failureClass: string;
  statusCode: number | null;
  failureCount: number;
  firstFailureAt: string;
  deactivatedAt: string;
}

/** What a warning tells: the run of failures so far, and what comes next. */
export interface WarningDetails {
  lastError: string;
  failureClass: string;
  statusCode: number | null;
  failureCount: number;
  firstFailureAt: string;
  nextAttemptAt: string;
  /** The latest the webhook is deactivated if every attempt until then fails. */
  deactivateBy: string;
}

/** Deliveries given up since the previous such notice was sent (null: since ever); counted when the e-mail is sent. */
export interface GivenUpDetails {
  since: string | null;
}

export type Notice =
  | { kind: 'webhook_deactivated'; details: DeactivationDetails }
  | { kind: 'webhook_failing'; details: WarningDetails }
  | { kind: 'deliveries_given_up'; details: GivenUpDetails };

/**
 * A system notification waiting to be sent: one per deactivation, one per
 * run of failures for a warning, one per day of given-up deliveries (a second
 * insert for the same occasion is ignored). It is sent from `sendAt` on
 * (default: now).
 */
export async function insertNotification(
  tx: Queryable,
  notification: Notice & { accountId: number; webhookId: number; deactivation: number; failureRun: number },
  now: Date,
  sendAt = now,
): Promise<void> {
  await tx.query(
    `insert ignore into notifications (account_id, webhook_id, deactivation, failure_run, kind, details, created_at, next_attempt_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
    [notification.accountId, notification.webhookId, notification.deactivation, notification.failureRun, notification.kind, JSON.stringify(notification.details), now, sendAt],
  );
}

const day = 86_400_000;

/**
 * Deliveries of a webhook were given up: one notice a day at most. A notice
 * still waiting tells these too (it counts when it is sent); otherwise a new
 * one is queued, due a day after the previous one was sent.
 */
export async function queueGivenUpNotice(tx: Queryable, notice: { accountId: number; webhookId: number }, now: Date): Promise<void> {
  const [rows] = await tx.query<RowDataPacket[]>(
    "select n.status, n.failure_run, n.sent_at from notifications n where n.webhook_id = ? and n.kind = 'deliveries_given_up' order by n.failure_run desc limit 1",
    [notice.webhookId],
  );
  const last = rows[0];
  if (last?.status === 'pending') return;
  const since: Date | null = last?.sent_at ?? null;
  const sendAt = since && since.getTime() + day > now.getTime() ? new Date(since.getTime() + day) : now;
  const details: GivenUpDetails = { since: since?.toISOString() ?? null };
  const occasion = { ...notice, deactivation: 0, failureRun: Number(last?.failure_run ?? 0) + 1 };
  await insertNotification(tx, { ...occasion, kind: 'deliveries_given_up', details }, now, sendAt);
}

/** How many deliveries of a webhook were given up since then (null: ever). */
export async function countGivenUpSince(db: Queryable, webhookId: number, since: Date | null): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>(
    "select count(*) as n from deliveries d where d.webhook_id = ? and d.status = 'failed' and d.finished_at > ?",
    [webhookId, since ?? new Date(0)],
  );
  return Number(rows[0]!.n);
}

export type DueNotification = Notice & {
  id: number;
  webhookId: number;
  deactivation: number;
  sendAttempts: number;
  account: { email: string; language: 'de' | 'en' };
  webhook: { id: number; app: string; event: string; url: string; bufferedEvents: number };
};

/** One probe without locks, so that an idle worker's notification check costs one query. */
export async function anyNotificationDue(db: Queryable, now: Date): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>(
    "select 1 from notifications n where n.status = 'pending' and n.next_attempt_at <= ? and (n.locked_until is null or n.locked_until < ?) limit 1",
    [now, now],
  );
  return rows.length > 0;
}

/**
 * Leases due notifications to one worker (only notification rows are locked),
 * then reads what the e-mail needs. Run inside a transaction.
 */
export async function claimDueNotifications(tx: Queryable, worker: string, now: Date, leaseUntil: Date, limit: number): Promise<DueNotification[]> {
  const [claimed] = await tx.query<RowDataPacket[]>(
    `select n.id from notifications n
     where n.status = 'pending' and n.next_attempt_at <= ? and (n.locked_until is null or n.locked_until < ?)
     order by n.next_attempt_at limit ? for update skip locked`,
    [now, now, limit],
  );
  if (claimed.length === 0) return [];
  const ids = claimed.map((row) => row.id);
  await tx.query('update notifications set locked_by = ?, locked_until = ? where id in (?)', [worker, leaseUntil, ids]);
  const [rows] = await tx.query<RowDataPacket[]>(
    `select n.id, n.webhook_id, n.deactivation, n.kind, n.details, n.send_attempts, a.email, a.language, w.app, w.event, w.url,
       (select count(*) from deliveries d where d.webhook_id = w.id and d.status = 'buffered') as buffered_events
     from notifications n join accounts a on a.id = n.account_id join webhooks w on w.id = n.webhook_id
     where n.id in (?) order by n.next_attempt_at`,
    [ids],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    webhookId: Number(row.webhook_id),
    deactivation: Number(row.deactivation),
    ...({ kind: row.kind, details: JSON.parse(row.details) } as Notice),
    sendAttempts: Number(row.send_attempts),
    account: { email: row.email, language: row.language },
    webhook: { id: Number(row.webhook_id), app: row.app, event: row.event, url: row.url, bufferedEvents: Number(row.buffered_events) },
  }));
}

/** Sent to the mail server, or stored because there is none (sent_at stays empty then). */
export async function markNotificationDone(
  db: Queryable,
  id: number,
  worker: string,
  done: { result: 'sent' | 'stored'; mail: { subject: string; text: string; html: string } },
  now: Date,
): Promise<void> {
  const { mail } = done;
  await db.query(
    `update notifications set status = ?, sent_at = ?, send_attempts = send_attempts + 1, subject = ?, body_text = ?, body_html = ?,
       last_error = null, locked_by = null, locked_until = null
     where id = ? and locked_by = ?`,
    [done.result, done.result === 'sent' ? now : null, mail.subject.slice(0, 255), mail.text, mail.html, id, worker],
  );
}

export interface StoredNotification {
  id: number;
  webhookId: number;
  kind: string;
  status: string;
  createdAt: Date;
  sentAt: Date | null;
  subject: string | null;
  text: string | null;
}

/** The notifications of a webhook or of an account, newest first, with the e-mail's text as rendered. */
export async function listNotifications(db: Queryable, of: { webhookId: number } | { username: string }, limit: number): Promise<StoredNotification[]> {
  const [where, value] = 'webhookId' in of ? ['n.webhook_id = ?', of.webhookId] : ['a.username = ?', of.username];
  const [rows] = await db.query<RowDataPacket[]>(
    `select n.id, n.webhook_id, n.kind, n.status, n.created_at, n.sent_at, n.subject, n.body_text
     from notifications n join accounts a on a.id = n.account_id where ${where} order by n.id desc limit ?`,
    [value, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id), webhookId: Number(row.webhook_id), kind: row.kind, status: row.status, createdAt: row.created_at, sentAt: row.sent_at,
    subject: row.subject, text: row.body_text,
  }));
}

export async function markNotificationFailed(
  db: Queryable,
  id: number,
  worker: string,
  failure: { error: string; nextAttemptAt: Date; mail: { subject: string; text: string; html: string } },
): Promise<void> {
  await db.query(
    `update notifications set send_attempts = send_attempts + 1, last_error = ?, next_attempt_at = ?, subject = ?, body_text = ?, body_html = ?,
       locked_by = null, locked_until = null
     where id = ? and locked_by = ?`,
    [failure.error.slice(0, 500), failure.nextAttemptAt, failure.mail.subject.slice(0, 255), failure.mail.text, failure.mail.html, id, worker],
  );
}
