import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { bufferPendingDeliveries, countFailedAttempts, giveUpDeliveries, markDeliveriesDelivered, reopenLanes } from '../../src/storage/deliveriesStore.js';
import { migrate } from '../../src/storage/migrator.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/mariadbServer.js';

// A database that crashed soon after its deliveries table filled up comes back
// with statistics of an empty table, and the optimizer then estimates one
// pending delivery in all: a round's record, which names its deliveries by id,
// walked (and locked) every pending delivery of every webhook through the
// status key instead. Concurrent rounds deadlocked on each other until their
// retries ran out and their leases had to run out too (a campaign stalled for
// 30 s after the restart).
describe('recording a round after a database crash', function () {
  this.timeout(120_000);
  let server: PrivateMariadb;
  let connection: mysql.Connection;
  const pendingLeft = 8_000;

  before(async () => {
    server = await startPrivateMariadb();
    await migrate(server.url('webhooks'));
    const setUp = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root', database: 'webhooks' });
    await setUp.query("insert into accounts (username, password_hash, email, language, created_at) values ('shop', 'unused', 'shop@example.com', 'en', now())");
    await setUp.query("insert into webhooks (account_id, app, event, url, secret, created_at) select 1, concat('hook', seq), 'optin_finalized', 'https://example.com/', 'whsec_c2VjcmV0', now() from seq_1_to_100");
    await setUp.query("insert into events (account_id, event, subscriber, payload, payload_bytes, occurred_at, received_at) select 1, 'optin_finalized', seq, '{}', 2, now(), now() from seq_1_to_200");
    // As intake writes them: ten events' deliveries to all webhooks a call.
    for (let first = 1; first <= 200; first += 10) {
      await setUp.query(
        "insert into deliveries (webhook_id, event_id, status, occurred_at, created_at) select w.id, e.id, 'pending', e.occurred_at, now() from webhooks w join events e where e.id between ? and ?",
        [first, first + 9],
      );
    }
    await setUp.query("update deliveries set status = 'delivered', finished_at = now() where id <= ?", [20_000 - pendingLeft]);
    await setUp.end();
    server.kill();
    await server.start();
    connection = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root', database: 'webhooks' });
  });

  after(async () => {
    await connection?.end();
    await server?.stop();
  });

  /** Rows the statement read by walking an index (not by looking its ids up), in a transaction rolled back after. */
  async function rowsWalked(write: (tx: mysql.PoolConnection) => Promise<void>): Promise<number> {
    await connection.query('begin');
    try {
      await connection.query('flush status');
      await write(connection as unknown as mysql.PoolConnection);
      const [rows] = await connection.query<mysql.RowDataPacket[]>("show session status like 'Handler_read_next'");
      return Number(rows[0]!.Value);
    } finally {
      await connection.query('rollback');
    }
  }

  // One webhook's round: its next 100 deliveries, one per event.
  const round = Array.from({ length: 100 }, (_, i) => 20_000 - pendingLeft + 96 + i * 100).filter((id) => id <= 20_000);

  it('marks its deliveries delivered by their ids, not by walking every pending delivery', async () => {
    expect(await rowsWalked((tx) => markDeliveriesDelivered(tx, round, new Date()))).to.equal(0);
  });

  it('counts failed attempts and gives deliveries up by their ids alike', async () => {
    expect(await rowsWalked((tx) => countFailedAttempts(tx, round))).to.equal(0);
    expect(await rowsWalked((tx) => giveUpDeliveries(tx, round, 5, new Date()))).to.equal(0);
  });

  it("changes one webhook's pending deliveries by walking that webhook's, not everybody's", async () => {
    const perWebhook = pendingLeft / 100;
    expect(await rowsWalked((tx) => reopenLanes(tx, 96))).to.be.at.most(2 * perWebhook);
    expect(await rowsWalked((tx) => bufferPendingDeliveries(tx, 96))).to.be.at.most(2 * perWebhook);
  });
});
