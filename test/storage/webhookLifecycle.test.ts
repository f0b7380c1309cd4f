import { expect } from 'chai';
import { createPool, type Pool } from '../../src/storage/database.js';
import { extendLeaseIfMoreWaits, releaseWebhook } from '../../src/storage/webhookLifecycleStore.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The worker ends a round with one statement that checks its lease and decides
 * whether more deliveries wait. Intake locks the webhook row before it adds a
 * delivery, so when the two meet, the worker's statement waits for the lock;
 * it must then see the delivery that intake committed meanwhile, or the webhook
 * would be released as "nothing waits" and the delivery stranded.
 */
describe('webhook lease statements against intake at the same moment', () => {
  let database: TestDatabase;
  let pool: Pool;
  const now = new Date('2026-06-01T08:00:00Z');
  const lease = { token: 'token-of-the-round-00000', until: new Date(now.getTime() + 60_000) };

  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.url);
    await pool.query("insert into accounts (id, username, password_hash, email, created_at) values (1, 'race', 'x', 'race@example.com', ?)", [now]);
    await pool.query("insert into webhooks (id, account_id, app, event, url, secret, created_at) values (1, 1, 'race', 'optin_finalized', 'https://example.com/', 'whsec_x', ?)", [now]);
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  async function leasedWithOneDeliveryJustSent(): Promise<number> {
    await pool.query('delete from deliveries');
    await pool.query("update webhooks set due_at = ?, locked_by = 'worker', lease_token = ?, locked_until = ? where id = 1", [now, lease.token, lease.until]);
    const [event] = await pool.query<any>("insert into events (account_id, event, payload, occurred_at, received_at) values (1, 'optin_finalized', '{}', ?, ?)", [now, now]);
    const [delivery] = await pool.query<any>("insert into deliveries (webhook_id, event_id, status, occurred_at, created_at) values (1, ?, 'pending', ?, ?)", [event.insertId, now, now]);
    return delivery.insertId;
  }

  /** Runs `statement` while an intake transaction holds the webhook row with a new delivery, then commits the intake. */
  async function meetingIntake<T>(statement: (tx: import('../../src/storage/database.js').PoolConnection) => Promise<T>): Promise<T> {
    const intake = await pool.getConnection();
    const worker = await pool.getConnection();
    try {
      await intake.beginTransaction();
      await intake.query("update webhooks w set w.due_at = coalesce(w.due_at, ?) where w.account_id = 1 and w.event = 'optin_finalized'", [now]);
      const [event] = await intake.query<any>("insert into events (account_id, event, payload, occurred_at, received_at) values (1, 'optin_finalized', '{}', ?, ?)", [now, now]);
      await intake.query("insert into deliveries (webhook_id, event_id, status, occurred_at, created_at) values (1, ?, 'pending', ?, ?)", [event.insertId, now, now]);
      await worker.beginTransaction();
      const waiting = statement(worker);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the worker's statement waits for the row lock now
      await intake.commit();
      const result = await waiting;
      await worker.commit();
      return result;
    } finally {
      intake.release();
      worker.release();
    }
  }

  it('a release that waited for intake leaves the webhook due', async () => {
    const sent = await leasedWithOneDeliveryJustSent();
    expect(await meetingIntake((tx) => releaseWebhook(tx, 1, lease.token, [sent], null, now))).to.equal(true);
    const [rows] = await pool.query<any[]>('select due_at, locked_by from webhooks where id = 1');
    expect(rows[0]).to.deep.equal({ due_at: now, locked_by: null });
  });

  it('a round that waited for intake keeps its lease for the new delivery', async () => {
    const sent = await leasedWithOneDeliveryJustSent();
    expect(await meetingIntake((tx) => extendLeaseIfMoreWaits(tx, 1, lease, [sent], null))).to.equal(true);
  });
});
