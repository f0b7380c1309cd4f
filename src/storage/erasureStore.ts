import { erasedText } from '../domain/event.js';
import type { Queryable, ResultSetHeader, RowDataPacket } from './database.js';

/**
 * The statements of a subscriber's erasure, each for one account and one
 * subscriber key. They run in one transaction, in this order: lock the
 * webhooks concerned (as intake and the worker lock a webhook before its
 * deliveries), read what answer texts the attempts kept, delete attempts,
 * deliveries, events and outbox rows, then scrub the copies of those texts.
 */

const ofSubscriber = 'e.account_id = ? and e.subscriber = ?';

/** Locks the webhooks that have deliveries of the subscriber; returns their ids. */
export async function lockSubscriberWebhooks(tx: Queryable, accountId: number, subscriber: string): Promise<number[]> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `select w.id from webhooks w where w.id in (
       select d.webhook_id from deliveries d join events e on e.id = d.event_id where ${ofSubscriber})
     order by w.id for update`,
    [accountId, subscriber],
  );
  return rows.map((row) => Number(row.id));
}

/** The answer texts kept from attempts at the subscriber's deliveries: receivers echo payloads. */
export async function subscriberAttemptErrors(tx: Queryable, accountId: number, subscriber: string): Promise<string[]> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `select distinct a.error from attempts a join deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id
     where ${ofSubscriber} and a.error is not null`,
    [accountId, subscriber],
  );
  return rows.map((row) => String(row.error));
}

export async function deleteSubscriberAttempts(tx: Queryable, accountId: number, subscriber: string): Promise<number> {
  const [result] = await tx.query<ResultSetHeader>(
    `delete a from attempts a join deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where ${ofSubscriber}`,
    [accountId, subscriber],
  );
  return result.affectedRows;
}

/** Deletes the deliveries; returns how many, and how many of them were still to be sent (pending or buffered). */
export async function deleteSubscriberDeliveries(tx: Queryable, accountId: number, subscriber: string): Promise<{ deliveries: number; unsent: number }> {
  const [rows] = await tx.query<RowDataPacket[]>(
    `select count(*) as deliveries, coalesce(sum(d.status in ('pending', 'buffered')), 0) as unsent
     from deliveries d join events e on e.id = d.event_id where ${ofSubscriber}`,
    [accountId, subscriber],
  );
  await tx.query(`delete d from deliveries d join events e on e.id = d.event_id where ${ofSubscriber}`, [accountId, subscriber]);
  return { deliveries: Number(rows[0]!.deliveries), unsent: Number(rows[0]!.unsent) };
}

/** The subscriber's lanes' last sequences: the key is personal data like the events' column. */
export async function deleteSubscriberLaneSequences(tx: Queryable, accountId: number, subscriber: string): Promise<void> {
  await tx.query('delete ls from lane_sequences ls join webhooks w on w.id = ls.webhook_id where w.account_id = ? and ls.subscriber = ?', [accountId, subscriber]);
}

export async function deleteSubscriberEvents(tx: Queryable, accountId: number, subscriber: string): Promise<number> {
  const [result] = await tx.query<ResultSetHeader>(`delete e from events e where ${ofSubscriber}`, [accountId, subscriber]);
  return result.affectedRows;
}

/**
 * Outbox rows not yet taken in: by their subscriber column, or, without one,
 * by the payload's subscriber_id (the key intake would give them).
 */
export async function deleteSubscriberOutboxRows(tx: Queryable, account: string, subscriber: string): Promise<number> {
  const [result] = await tx.query<ResultSetHeader>(
    `delete from event_outbox where account = ?
       and (subscriber = ? or (subscriber is null and json_valid(payload) and json_value(payload, '$.subscriber_id') = ?))`,
    [account, subscriber, subscriber],
  );
  return result.affectedRows;
}

/**
 * Where an attempt's answer text was copied to: the webhook's last error, and
 * the system notifications that told it (the e-mail's stored bodies are
 * dropped; one not sent yet is rendered from the scrubbed details).
 */
export async function scrubAnswerTexts(tx: Queryable, accountId: number, texts: string[]): Promise<number> {
  if (texts.length === 0) return 0;
  const [webhooks] = await tx.query<ResultSetHeader>('update webhooks set last_error = ? where account_id = ? and last_error in (?)', [erasedText, accountId, texts]);
  const [notifications] = await tx.query<ResultSetHeader>(
    `update notifications set details = json_set(details, '$.lastError', ?), body_text = null, body_html = null
     where account_id = ? and json_value(details, '$.lastError') in (?)`,
    [erasedText, accountId, texts],
  );
  return webhooks.affectedRows + notifications.affectedRows;
}
