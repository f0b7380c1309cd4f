import { expect } from 'chai';
import { createPool, type Pool } from '../src/storage/database.js';
import { EventIntake } from '../src/services/eventIntake.js';
import { loadPendingDeliveries } from '../src/storage/deliveriesStore.js';
import { Housekeeping } from '../src/services/housekeeping.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

/**
 * What intake costs the database per event must not grow with what came
 * before: a subscriber with 100,000 earlier events, or a webhook with a long
 * history, costs the same index reads as a new one. Counted with MariaDB's
 * own session counters on a pool of one connection, not timed.
 */
describe('intake and round costs that do not grow with history', function () {
  this.timeout(120_000);
  let service: RunningService;
  let account: TestAccount;
  let single: Pool;
  let intake: EventIntake;
  let webhookIds: number[];

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', DIRECT_DELIVERY: '0' });
    account = await makeAccount(service);
    for (const n of [1, 2, 3]) await service.app.webhooks.create(account.id, { app: `hook${n}`, event: 'optin_finalized', url: `http://127.0.0.1:9/${n}` });
    webhookIds = (await service.app.webhooks.list(account.id, {})).map((w) => w.id);
    // One connection: the session's counters see every statement intake makes.
    single = createPool(service.database.url, 1);
    intake = new EventIntake(single, service.app.clock, { bufferDays: 5, maxPayloadBytes: 65536, maxPayloadDepth: 32, leaseSeconds: 30 });
  });
  after(async () => {
    await single?.end();
    await service.stop();
  });

  async function indexReadsOf(work: () => Promise<unknown>): Promise<number> {
    const read = async () => {
      const [rows] = await single.query<any[]>("show session status where variable_name in ('Handler_read_key', 'Handler_read_next', 'Handler_read_prev', 'Handler_read_rnd_next')");
      return rows.reduce((sum, row) => sum + Number(row.Value), 0);
    };
    const before = await read();
    await work();
    return (await read()) - before - 4; // the counting statement itself reads its four rows
  }

  const emit = (subscriber: string) => intake.accept([{ account: account.username, event: 'optin_finalized', subscriber, payload: { subscriber_id: subscriber } }]);

  it('fans out an event of a subscriber with 100,000 earlier events with the index reads of a new subscriber', async () => {
    await emit('warm-up');
    const fresh = await indexReadsOf(() => emit('new-subscriber'));

    // 100,000 earlier events of one subscriber, each delivered to every webhook.
    const pool = service.app.pool;
    await pool.query(
      `insert into events (account_id, event, subscriber, payload, payload_bytes, occurred_at, received_at)
       select ?, 'optin_finalized', 'long-history', '{}', 2, utc_timestamp(3), utc_timestamp(3) from seq_1_to_100000`,
      [account.id],
    );
    await pool.query(
      `insert into deliveries (webhook_id, event_id, sequence, previous_sequence, status, occurred_at, created_at, finished_at)
       select w.id, e.id, null, null, 'delivered', e.occurred_at, e.received_at, e.received_at
       from events e join webhooks w on w.account_id = e.account_id where e.subscriber = 'long-history'`,
    );
    await emit('long-history');
    const [[last]] = await pool.query<any[]>("select d.sequence from deliveries d join events e on e.id = d.event_id where e.subscriber = 'long-history' and d.webhook_id = ? order by d.id desc limit 1", [webhookIds[0]]);
    const withHistory = await indexReadsOf(() => emit('long-history'));
    expect(withHistory, `a new subscriber took ${fresh} index reads`).to.be.at.most(fresh + 20);

    // And the number it names is the subscriber's last one on that webhook.
    const [[newest]] = await pool.query<any[]>("select d.previous_sequence from deliveries d join events e on e.id = d.event_id where e.subscriber = 'long-history' and d.webhook_id = ? order by d.id desc limit 1", [webhookIds[0]]);
    expect(Number(newest.previous_sequence)).to.equal(Number(last.sequence));
  });

  it('loads a round beside a backlog with at most two index reads per waiting delivery, not two for each delivery it takes beside the head', async () => {
    const pool = service.app.pool;
    const { id } = await service.app.webhooks.create(account.id, { app: 'backlog', event: 'optout_finalized', url: 'http://127.0.0.1:9/backlog' });
    let queued = 0;
    const queue = async (count: number) => {
      // A subscriber each, as in a campaign: every one of the newest may go beside the head, once nothing older of its lane is found.
      await pool.query(
        `insert into events (account_id, event, subscriber, payload, payload_bytes, occurred_at, received_at)
         select ?, 'optout_finalized', concat('b', seq + ?), '{}', 2, utc_timestamp(3), utc_timestamp(3) from seq_1_to_${count}`,
        [account.id, queued],
      );
      await pool.query(
        `insert into deliveries (webhook_id, event_id, sequence, previous_sequence, status, occurred_at, created_at)
         select ?, e.id, null, null, 'pending', e.occurred_at, e.received_at from events e
         where e.account_id = ? and e.event = 'optout_finalized' and not exists (select 1 from deliveries d where d.event_id = e.id)`,
        [id, account.id],
      );
      queued += count;
    };
    const round = () => loadPendingDeliveries(single, id, { rows: 100, bytes: 256 * 1024, beside: 20 }, null);
    await queue(1000);
    const small = await indexReadsOf(round);
    await queue(2000);
    const large = await indexReadsOf(round);
    expect((await round()).deliveries, 'the head, and 20 beside it').to.have.length(120);
    expect(large - small, `2,000 more waiting: ${small} → ${large} index reads`).to.be.at.most(2 * 2000 + 50);
  });

  it('forgets a lane with its subscriber\'s erasure and after the retention', async () => {
    await emit('to-be-erased');
    const lanes = async (subscriber: string) => {
      const [[row]] = await service.app.pool.query<any[]>('select count(*) as n from lane_sequences where subscriber = ?', [subscriber]);
      return Number(row.n);
    };
    expect(await lanes('to-be-erased')).to.equal(3);
    await service.app.erasure.erase({ account: account.username, subscriber: 'to-be-erased' });
    expect(await lanes('to-be-erased')).to.equal(0);
    await emit('to-be-erased');
    const [[first]] = await service.app.pool.query<any[]>("select d.previous_sequence from deliveries d join events e on e.id = d.event_id where e.subscriber = 'to-be-erased' order by d.id limit 1");
    expect(Number(first.previous_sequence), 'nothing of the lane is kept: a gap the receiver learns of').to.equal(0);

    await service.app.pool.query("update lane_sequences set last_at = utc_timestamp(3) - interval 400 day where subscriber = 'to-be-erased'");
    const purged = await new Housekeeping(service.app.pool, service.app.clock, service.config).purge();
    expect(purged.laneSequencesPurged).to.equal(3);
  });
});
