import type { CustomHeader } from '../domain/customHeaders.js';
import type { EventName, WebHook } from '../domain/webhook.js';
import { selectRows, type Pool, type Queryable, type ResultSetHeader, type RowDataPacket } from './database.js';

// Only a deactivated webhook has buffered deliveries (activation replays or
// discards them, and intake buffers only under the webhook's row lock), so the
// count is skipped for the active ones: GetWebHooks is the hot path.
const webhookColumns = `w.id, w.account_id, w.app, w.event, w.url, w.secret, w.active, w.created_at,
  w.deactivated_at, w.failure_count, w.last_error, w.max_per_second, w.custom_headers,
  if(w.active = 1, 0, (select count(*) from deliveries d where d.webhook_id = w.id and d.status = 'buffered')) as buffered_events`;

function toWebHook(row: RowDataPacket): WebHook {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    app: row.app,
    event: row.event,
    url: row.url,
    secret: row.secret,
    active: row.active === 1,
    createdAt: row.created_at,
    deactivatedAt: row.deactivated_at,
    failureCount: Number(row.failure_count),
    lastError: row.last_error,
    bufferedEvents: Number(row.buffered_events),
    maxPerSecond: row.max_per_second === null ? null : Number(row.max_per_second),
    headerNames: customHeadersOf(row).map((header) => header.name),
  };
}

/** The headers of a row that selected w.custom_headers (stored as JSON text; null: none). */
export function customHeadersOf(row: RowDataPacket): CustomHeader[] {
  return row.custom_headers ? (JSON.parse(row.custom_headers) as CustomHeader[]) : [];
}

const storedHeaders = (headers: readonly CustomHeader[]) => (headers.length === 0 ? null : JSON.stringify(headers));

export interface NewWebHook {
  accountId: number;
  app: string;
  event: EventName;
  url: string;
  secret: string;
  createdVia: 'webservice' | 'zapier';
  maxPerSecond: number | null;
  headers: CustomHeader[];
}

export async function insertWebhook(db: Queryable, webhook: NewWebHook, now: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    'insert into webhooks (account_id, app, event, url, secret, created_via, max_per_second, custom_headers, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [webhook.accountId, webhook.app, webhook.event, webhook.url, webhook.secret, webhook.createdVia, webhook.maxPerSecond, storedHeaders(webhook.headers), now],
  );
  return result.insertId;
}

export async function countWebhooks(db: Queryable, accountId: number): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('select count(*) as n from webhooks w where w.account_id = ?', [accountId]);
  return Number(rows[0]?.n ?? 0);
}

export interface WebHookFilter {
  app?: string;
  event?: string;
}

// One fixed statement per combination of filters, so that each can use its index.
const listStatements = {
  none: `select ${webhookColumns} from webhooks w where w.account_id = ? order by w.id`,
  app: `select ${webhookColumns} from webhooks w where w.account_id = ? and w.app = ? order by w.id`,
  event: `select ${webhookColumns} from webhooks w where w.account_id = ? and w.event = ? order by w.id`,
  both: `select ${webhookColumns} from webhooks w where w.account_id = ? and w.app = ? and w.event = ? order by w.id`,
};

export async function listWebhooks(pool: Pool, accountId: number, filter: WebHookFilter): Promise<WebHook[]> {
  const { app, event } = filter;
  const rows =
    app !== undefined && event !== undefined ? await selectRows(pool, listStatements.both, [accountId, app, event])
    : app !== undefined ? await selectRows(pool, listStatements.app, [accountId, app])
    : event !== undefined ? await selectRows(pool, listStatements.event, [accountId, event])
    : await selectRows(pool, listStatements.none, [accountId]);
  return rows.map(toWebHook);
}

export async function findWebhook(db: Queryable, accountId: number, id: number, forUpdate = false): Promise<WebHook | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select ${webhookColumns} from webhooks w where w.id = ? and w.account_id = ?${forUpdate ? ' for update' : ''}`,
    [id, accountId],
  );
  return rows[0] ? toWebHook(rows[0]) : undefined;
}

/** What UpdateWebHook may change; an absent field stays as it is. */
export interface WebHookChange {
  app?: string;
  url?: string;
  maxPerSecond?: number | null;
  headers?: CustomHeader[];
}

/** The webhook's stored headers with their values, for a change that keeps some. */
export async function findCustomHeaders(db: Queryable, id: number): Promise<CustomHeader[]> {
  const [rows] = await db.query<RowDataPacket[]>('select w.custom_headers from webhooks w where w.id = ?', [id]);
  return rows[0] ? customHeadersOf(rows[0]) : [];
}

export async function changeWebhook(db: Queryable, id: number, change: WebHookChange): Promise<void> {
  const columns: Array<[string, unknown]> = [];
  if (change.app !== undefined) columns.push(['app', change.app]);
  if (change.url !== undefined) columns.push(['url', change.url]);
  if (change.maxPerSecond !== undefined) columns.push(['max_per_second', change.maxPerSecond]);
  if (change.headers !== undefined) columns.push(['custom_headers', storedHeaders(change.headers)]);
  if (columns.length === 0) return;
  await db.query(`update webhooks set ${columns.map(([column]) => `${column} = ?`).join(', ')} where id = ?`, [...columns.map(([, value]) => value), id]);
}

export async function deleteWebhook(db: Queryable, accountId: number, id: number): Promise<boolean> {
  const [result] = await db.query<ResultSetHeader>('delete from webhooks where id = ? and account_id = ?', [id, accountId]);
  return result.affectedRows === 1;
}

/**
 * A new secret; the old one keeps signing beside it until `previousUntil`
 * (null: dropped at once). The assignments run left to right, so
 * previous_secret takes the secret before it is replaced.
 */
export async function replaceSecret(db: Queryable, id: number, secret: string, previousUntil: Date | null): Promise<void> {
  await db.query(
    'update webhooks set previous_secret = if(? is null, null, secret), previous_secret_until = ?, secret = ? where id = ?',
    [previousUntil, previousUntil, secret, id],
  );
}

/**
 * Counts a test request against the webhook's window of a minute and returns
 * the count with this one, or undefined when the account has no such webhook.
 * One atomic statement: parallel calls each see a different count.
 */
export async function countTestRequest(db: Queryable, accountId: number, id: number, now: Date, windowStart: Date): Promise<number | undefined> {
  const [result] = await db.query<ResultSetHeader>(
    `update webhooks set
       tests_in_window = last_insert_id(if(tests_window_start is null or tests_window_start < ?, 1, tests_in_window + 1)),
       tests_window_start = if(tests_window_start is null or tests_window_start < ?, ?, tests_window_start)
     where id = ? and account_id = ?`,
    [windowStart, windowStart, now, id, accountId],
  );
  return result.affectedRows === 1 ? result.insertId : undefined;
}

export interface SigningSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
}

/** The secrets of a row that selected w.secret, w.previous_secret and w.previous_secret_until. */
export function signingSecretsOf(row: RowDataPacket): SigningSecrets {
  return { secret: row.secret, previousSecret: row.previous_secret, previousSecretUntil: row.previous_secret_until };
}

/** Where a webhook's requests go, with what headers of the customer's, and what signs them. */
export interface SendingTarget {
  url: string;
  headers: CustomHeader[];
  secrets: SigningSecrets;
}

/** The columns sendingTargetOf reads. */
export const sendingTargetColumns = 'w.url, w.custom_headers, w.secret, w.previous_secret, w.previous_secret_until';

export function sendingTargetOf(row: RowDataPacket): SendingTarget {
  return { url: row.url, headers: customHeadersOf(row), secrets: signingSecretsOf(row) };
}

/** Where the account's webhook is sent to and what signs it; undefined when the account has no such webhook. */
export async function findSendingTarget(db: Queryable, accountId: number, id: number): Promise<SendingTarget | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(`select ${sendingTargetColumns} from webhooks w where w.id = ? and w.account_id = ?`, [id, accountId]);
  return rows[0] ? sendingTargetOf(rows[0]) : undefined;
}

export interface WebHookWithAccount extends WebHook {
  deactivations: number;
  language: 'de' | 'en';
}

/** A webhook by id alone, for a signed link that already names it. */
export async function findWebhookWithAccount(db: Queryable, id: number): Promise<WebHookWithAccount | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select ${webhookColumns}, w.deactivations, a.language from webhooks w join accounts a on a.id = w.account_id where w.id = ?`,
    [id],
  );
  const row = rows[0];
  return row ? { ...toWebHook(row), deactivations: Number(row.deactivations), language: row.language } : undefined;
}
