import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from '../src/storage/database.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, startService, type RunningService } from './helpers/service.js';

// After a database restart every webhook's round goes at once, and a round's
// record could lose its lock conflicts until its retries ran out; its lease
// then had to run out before anyone sent the webhook's deliveries again (a
// campaign stalled for the 30 s of a lease after the restart).
describe('a round whose record keeps losing lock conflicts', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', LEASE_SECONDS: '60', DELIVERY_TIMEOUT_MS: '2000', POLL_INTERVAL_MS: '20' });
    // The service's connections (made as it needs them, after this) give up a lock wait after a second (a cluster's after 10 s).
    service.app.pool.on('connection', (connection) => {
      connection.query('set session innodb_lock_wait_timeout = 1');
    });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver?.stop();
    await service?.stop();
  });

  it('hands its lease back as soon as it can, so that the delivery goes again within seconds, not after the 60 s lease', async () => {
    const account = await makeAccount(service);
    const webhook = await service.app.webhooks.create(account.id, { app: 'crm', event: 'optin_finalized', url: receiver.url('/busy') });
    const other = await mysql.createConnection({ ...parseDatabaseUrl(service.database.url).connection, database: service.database.name });
    try {
      // While the first attempt is answered, another transaction takes the webhook's row and keeps it for 6 s.
      let holding: Promise<void> | undefined;
      receiver.reply = (_receipt, index) => {
        if (index === 0) {
          holding = (async () => {
            await other.query('begin');
            await other.query('select id from webhooks where id = ? for update', [webhook.id]);
            await new Promise((resolve) => setTimeout(resolve, 6000));
            await other.query('commit');
          })();
        }
        return { status: 200, delayMs: index === 0 ? 300 : 0 };
      };
      const [[lockWait]] = await service.app.pool.query<mysql.RowDataPacket[]>('select @@session.innodb_lock_wait_timeout as seconds');
      expect(Number(lockWait!.seconds), 'the short lock wait').to.equal(1);
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 1 } }]);
      const started = Date.now();
      // One pass delivers until nothing is due: the lease handed back, the webhook is claimed again in the same pass.
      await service.app.createWorker().runOnce();
      await holding;
      expect(Date.now() - started).to.be.below(20_000);
      expect(receiver.receipts.map((r) => JSON.parse(r.body).n), 'sent again: the first attempt could not be recorded').to.deep.equal([1, 1]);
      const [[row]] = await service.app.pool.query<mysql.RowDataPacket[]>('select w.locked_by, d.status from webhooks w join deliveries d on d.webhook_id = w.id where w.id = ?', [webhook.id]);
      expect(row).to.deep.include({ locked_by: null, status: 'delivered' });
    } finally {
      await other.end();
    }
  });
});
