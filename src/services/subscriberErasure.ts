import { invalid, missing } from '../domain/errors.js';
import { readSubscriberKey } from '../domain/event.js';
import { inTransaction, type Pool } from '../storage/database.js';
import {
  deleteSubscriberAttempts,
  deleteSubscriberDeliveries,
  deleteSubscriberEvents,
  deleteSubscriberLaneSequences,
  deleteSubscriberOutboxRows,
  lockSubscriberWebhooks,
  scrubAnswerTexts,
  subscriberAttemptErrors,
} from '../storage/erasureStore.js';
import { accountIdsByUsername } from '../storage/eventsStore.js';

/** What an erasure removed: every count is of rows gone for good. */
export interface Erased {
  events: number;
  deliveries: number;
  /** Of those deliveries, how many were still to be sent (pending or buffered): they never will be. */
  unsentDeliveries: number;
  attempts: number;
  outboxRows: number;
  /** Copies of answer texts (a webhook's last error, a notification's) replaced by "[erased]". */
  scrubbedTexts: number;
}

/**
 * Erasure of one subscriber's data in one account (GDPR Art. 17): every event
 * with that subscriber key, all its deliveries in every state, their attempts
 * (receivers echo payloads in their error answers) and every copy of those
 * answers, and the outbox rows not yet taken in. One transaction, so it is
 * durable when it answers; running it again finds nothing and answers zeros.
 * A delivery in flight may still arrive; its outcome is not recorded, and
 * nothing is sent after the erasure.
 */
export class SubscriberErasure {
  constructor(private readonly pool: Pool) {}

  async erase(input: { account: unknown; subscriber: unknown }): Promise<Erased> {
    if (typeof input.account !== 'string' || input.account === '') throw missing('account');
    const account = input.account;
    const subscriber = readSubscriberKey(input.subscriber);
    return inTransaction(this.pool, async (tx) => {
      const accountId = (await accountIdsByUsername(tx, [account])).get(account);
      if (accountId === undefined) throw invalid('account', 'names no account');
      await lockSubscriberWebhooks(tx, accountId, subscriber);
      const texts = await subscriberAttemptErrors(tx, accountId, subscriber);
      const attempts = await deleteSubscriberAttempts(tx, accountId, subscriber);
      const { deliveries, unsent } = await deleteSubscriberDeliveries(tx, accountId, subscriber);
      const events = await deleteSubscriberEvents(tx, accountId, subscriber);
      await deleteSubscriberLaneSequences(tx, accountId, subscriber);
      const outboxRows = await deleteSubscriberOutboxRows(tx, account, subscriber);
      const scrubbedTexts = await scrubAnswerTexts(tx, accountId, texts);
      return { events, deliveries, unsentDeliveries: unsent, attempts, outboxRows, scrubbedTexts };
    });
  }
}
