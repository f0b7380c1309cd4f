import { expect } from 'chai';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

/** serve sends an accepted event's first attempt itself, under a lease taken in the intake's transaction. */
describe('direct delivery from intake', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;
  let account: TestAccount;
  // A poll interval so long that only direct delivery can explain a prompt arrival.
  const env = { ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'token', POLL_INTERVAL_MS: '60000', LEASE_SECONDS: '6', DELIVERY_TIMEOUT_MS: '2000' };

  let dispatcher: string;

  before(async () => {
    service = await startService(env);
    dispatcher = service.app.enableDirectDelivery().id;
  });
  after(() => service.stop());
  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    account = await makeAccount(service);
  });
  afterEach(() => receiver.stop());

  const anotherProcess = () => service.anotherProcess({ POLL_INTERVAL_MS: '20' });

  async function emit(events: Array<{ n: number; subscriber?: string }>, origin = service.baseUrl) {
    const response = await fetch(`${origin}/internal/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer token' },
      body: JSON.stringify(events.map(({ n, subscriber }) => ({ account: account.username, event: 'optin_finalized', subscriber, payload: { n } }))),
    });
    expect(response.status).to.equal(202);
  }

  it('sends the first attempt right after the intake commit, with no worker polling', async () => {
    const webhook = await service.app.webhooks.create(account.id, { app: 'direct', event: 'optin_finalized', url: receiver.url() });
    await emit([{ n: 1 }]);
    await receiver.waitFor(1, 2000);
    const settled = Date.now() + 2000;
    let row: any;
    do {
      [[row]] = await service.app.pool.query<any[]>(
        "select w.locked_by, w.due_at, (select count(*) from deliveries d where d.webhook_id = w.id and d.status = 'delivered') as delivered from webhooks w where w.id = ?",
        [webhook.id],
      );
    } while (row.delivered === 0 && Date.now() < settled);
    expect(row).to.deep.equal({ locked_by: null, due_at: null, delivered: 1 }); // recorded and released
  });

  it('leaves a webhook that backs off to the workers: no direct attempt before its retry is due', async () => {
    const webhook = await service.app.webhooks.create(account.id, { app: 'direct', event: 'optin_finalized', url: receiver.url() });
    receiver.reply = () => ({ status: 503 });
    await emit([{ n: 1 }]);
    await receiver.waitFor(1, 2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await emit([{ n: 2 }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.receipts).to.have.length(1);
    const [[row]] = await service.app.pool.query<any[]>('select failure_count from webhooks where id = ?', [webhook.id]);
    expect(row.failure_count).to.equal(1);
  });

  it('keeps per-subscriber order and sends each delivery once, with two API processes and two workers on one database', async () => {
    const api2 = anotherProcess();
    const dispatcher2 = api2.enableDirectDelivery().id;
    const server2 = await api2.listen(0, '127.0.0.1');
    const origin2 = `http://127.0.0.1:${(server2.address() as import('node:net').AddressInfo).port}`;
    const workers = [anotherProcess().createWorker(), anotherProcess().createWorker()];
    try {
      for (let w = 0; w < 5; w += 1) await service.app.webhooks.create(account.id, { app: `w${w}`, event: 'optin_finalized', url: receiver.url(`/w${w}`) });
      receiver.reply = () => ({ status: 200, delayMs: 5 });
      workers.forEach((worker) => worker.start());
      // One after the other (the order of events is the order intake takes them), alternating between the API processes.
      for (let n = 0; n < 120; n += 6) {
        await emit(Array.from({ length: 6 }, (_, i) => ({ n: n + i, subscriber: `s${(n + i) % 4}` })), n % 12 === 0 ? service.baseUrl : origin2);
      }
      await receiver.waitFor(600, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.receipts).to.have.length(600);
      expect(new Set(receiver.ids()).size).to.equal(600);
      for (let w = 0; w < 5; w += 1) {
        for (let s = 0; s < 4; s += 1) {
          const ns = receiver.receipts.filter((r) => r.path === `/w${w}`).map((r) => JSON.parse(r.body).n).filter((n: number) => n % 4 === s);
          expect(ns, `webhook ${w}, subscriber ${s}`).to.deep.equal([...ns].sort((a, b) => a - b));
        }
      }
      const [byApi] = await service.app.pool.query<any[]>(
        'select count(*) as n from attempts a join webhooks w on w.id = a.webhook_id where w.account_id = ? and a.worker in (?)',
        [account.id, [dispatcher, dispatcher2]],
      );
      expect(Number(byApi[0].n), 'attempts sent directly by the API processes').to.be.above(0);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
      server2.closeAllConnections();
      await new Promise((resolve) => server2.close(resolve));
    }
  });
});
