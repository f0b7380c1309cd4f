import type { Queryable, ResultSetHeader } from './database.js';

/** What closing an account removed: every count is of rows gone for good. */
export interface ClosedAccount {
  webhooks: number;
  events: number;
  deliveries: number;
  attempts: number;
  outboxRows: number;
  notifications: number;
  throttlingRows: number;
}

async function deleted(tx: Queryable, sql: string, params: unknown[]): Promise<number> {
  const [result] = await tx.query<ResultSetHeader>(sql, params);
  return result.affectedRows;
}

/**
 * Everything stored for one account, in one transaction and in this order:
 * the account row and its webhooks locked first (as intake and the workers
 * lock a webhook before its deliveries, so a worker recording a round waits,
 * then finds its lease gone), then attempts, deliveries, notifications,
 * webhooks, events, outbox rows, throttling rows, and the account.
 */
export async function closeAccountData(tx: Queryable, accountId: number, username: string): Promise<ClosedAccount> {
  await tx.query('select a.id from accounts a where a.id = ? for update', [accountId]);
  await tx.query('select w.id from webhooks w where w.account_id = ? order by w.id for update', [accountId]);
  const attempts = await deleted(tx, 'delete a from attempts a join webhooks w on w.id = a.webhook_id where w.account_id = ?', [accountId]);
  const deliveries = await deleted(tx, 'delete d from deliveries d join webhooks w on w.id = d.webhook_id where w.account_id = ?', [accountId]);
  const notifications = await deleted(tx, 'delete from notifications where account_id = ?', [accountId]);
  const webhooks = await deleted(tx, 'delete from webhooks where account_id = ?', [accountId]);
  const events = await deleted(tx, 'delete from events where account_id = ?', [accountId]);
  const outboxRows = await deleted(tx, 'delete from event_outbox where account = ?', [username]);
  const throttlingRows = await deleted(tx, 'delete from login_failures where account_id = ?', [accountId]);
  await tx.query('delete from accounts where id = ?', [accountId]);
  return { webhooks, events, deliveries, attempts, outboxRows, notifications, throttlingRows };
}
