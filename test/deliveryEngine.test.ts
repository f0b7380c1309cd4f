import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { DeliveryWorker } from '../src/services/deliveryWorker.js';
import { HostileReceiver } from './helpers/hostileReceiver.js';
import { TestReceiver, type Receipt } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

const second = 1000;

/** The webhook is the unit of a lease; its subscribers are its lanes. */
describe('the delivery engine', function () {
  this.timeout(60_000);
  async function webhook(service: RunningService, account: TestAccount, url: string): Promise<number> {
    const created = await service.app.webhooks.create(account.id, { app: 'engine', event: 'optin_finalized', url });
    return created.id;
  }

  function emit(service: RunningService, account: TestAccount, events: Array<{ subscriber?: string; n: number | string }>) {
    return service.app.intake.accept(events.map(({ subscriber, n }) => ({ account: account.username, event: 'optin_finalized', subscriber, payload: { n } })));
  }

  /** The n of each successful receipt, per subscriber, in arrival order. */
  function deliveredBySubscriber(receiver: TestReceiver, ok: (receipt: Receipt) => boolean = () => true): Map<string, string[]> {
    const result = new Map<string, string[]>();
    for (const receipt of receiver.receipts.filter(ok)) {
      const n = String(JSON.parse(receipt.body).n);
      const subscriber = n.replace(/\d+$/, '');
      result.set(subscriber, [...(result.get(subscriber) ?? []), n]);
    }
    return result;
  }

  describe('lanes (manual clock)', () => {
    let service: RunningService;
    let worker: DeliveryWorker;
    let receiver: TestReceiver;
    const clock = new ManualClock('2026-06-01T08:00:00Z');

    before(async () => {
      service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '30', DEACTIVATE_AFTER_FAILURES: '3' }, { clock });
      worker = service.app.createWorker();
    });
    after(() => service.stop());
    beforeEach(async () => {
      receiver = await new TestReceiver().start();
    });
    afterEach(() => receiver.stop());

    it('sends up to WEBHOOK_PARALLELISM deliveries of one webhook at once, each subscriber in event order', async () => {
      const account = await makeAccount(service);
      await webhook(service, account, receiver.url());
      receiver.reply = () => ({ status: 200, delayMs: 60 });
      const events = [];
      for (let n = 1; n <= 3; n += 1) for (let s = 0; s < 16; s += 1) events.push({ subscriber: `s${s}-`, n: `s${s}-${n}` });
      await emit(service, account, events);
      expect(await worker.runOnce()).to.equal(48);
      expect(receiver.maxInFlight).to.equal(8);
      const bySubscriber = deliveredBySubscriber(receiver);
      expect(bySubscriber.size).to.equal(16);
      for (const [subscriber, ns] of bySubscriber) expect(ns).to.deep.equal([1, 2, 3].map((n) => `${subscriber}${n}`));
    });

    it('keeps events without a subscriber key in one lane, and takes the key from the payload when intake names none', async () => {
      const account = await makeAccount(service);
      await webhook(service, account, receiver.url());
      receiver.reply = () => ({ status: 200, delayMs: 20 });
      await service.app.intake.accept([
        ...[1, 2, 3].map((n) => ({ account: account.username, event: 'optin_finalized', payload: { n: `none${n}` } })),
        ...[1, 2, 3].map((n) => ({ account: account.username, event: 'optin_finalized', payload: { n: `p${n}`, subscriber_id: 6049065 } })),
      ]);
      await worker.runOnce();
      expect(receiver.maxInFlight).to.equal(2);
      expect(Object.fromEntries(deliveredBySubscriber(receiver))).to.deep.equal({ none: ['none1', 'none2', 'none3'], p: ['p1', 'p2', 'p3'] });
      const [keys] = await service.app.pool.query<any[]>('select distinct subscriber from events where account_id = ? order by subscriber', [account.id]);
      expect(keys.map((row) => row.subscriber)).to.deep.equal([null, '6049065']);
    });

    const sent = () => receiver.receipts.map((r) => String(JSON.parse(r.body).n));
    async function deliveryStates(id: number): Promise<Record<string, string>> {
      const [rows] = await service.app.pool.query<any[]>(
        'select json_value(e.payload, "$.n") as n, d.status from deliveries d join events e on e.id = d.event_id where d.webhook_id = ?',
        [id],
      );
      return Object.fromEntries(rows.map((row) => [row.n, row.status]));
    }

    it('backs off only the failing subscriber: its later events wait behind it, the others flow, and it moves on once its delivery is given up', async () => {
      const account = await makeAccount(service);
      const id = await webhook(service, account, receiver.url());
      receiver.reply = (receipt) => (String(JSON.parse(receipt.body).n).startsWith('b') ? { status: 400, body: 'b is refused' } : { status: 200, delayMs: 30 });
      await emit(service, account, ['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3'].map((n) => ({ subscriber: n[0], n })));

      await worker.runOnce(); // b1 fails; a and c go on at full parallelism; b2 waits behind b1
      expect(sent().sort()).to.deep.equal(['a1', 'a2', 'a3', 'b1', 'c1', 'c2']);
      clock.advance(29 * second);
      expect(await worker.runOnce(), 'the lane waits its whole step').to.equal(0);
      clock.advance(1 * second);
      await worker.runOnce(); // b1's second try, alone in its lane
      expect(sent().slice(6)).to.deep.equal(['b1']);
      clock.advance(30 * second);
      await worker.runOnce(); // the third failure of b1's lane: given up; the lane moves on to b2
      expect(sent().slice(7)).to.deep.equal(['b1', 'b2']);
      expect(await deliveryStates(id)).to.deep.include({ b1: 'failed', b2: 'pending', a3: 'delivered' });
      const [webhooks] = await service.app.pool.query<any[]>('select active from webhooks where id = ?', [id]);
      expect(webhooks[0].active).to.equal(1);
    });

    it('keeps each subscriber in event order through a down endpoint, deactivation and replay', async () => {
      const account = await makeAccount(service);
      const id = await webhook(service, account, receiver.url());
      let down = true;
      receiver.reply = () => (down ? { status: 503 } : { status: 200, delayMs: 10 });
      await emit(service, account, ['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3'].map((n) => ({ subscriber: n[0], n })));
      await worker.runOnce(); // a1, b1, c1 fail together: three in a row, the endpoint is down
      clock.advance(30 * second);
      await worker.runOnce(); // one probe
      clock.advance(30 * second);
      await worker.runOnce(); // the third failed step: deactivated
      expect(sent()).to.deep.equal([...sent().slice(0, 3), 'a1', 'a1']);
      expect(Object.values(await deliveryStates(id))).to.deep.equal(Array(7).fill('buffered'));

      down = false;
      receiver.receipts.length = 0;
      expect((await service.app.webhooks.activate(account.id, id, true)).replayedEvents).to.equal(7);
      await worker.runOnce();
      expect(Object.fromEntries(deliveredBySubscriber(receiver))).to.deep.equal({ a: ['a1', 'a2', 'a3'], b: ['b1', 'b2'], c: ['c1', 'c2'] });
    });

    it('probes a down endpoint with one request, and opens every lane again once it succeeds', async () => {
      const account = await makeAccount(service);
      await webhook(service, account, receiver.url());
      const concurrentAtArrival: number[] = [];
      let down = true;
      receiver.reply = () => {
        concurrentAtArrival.push(receiver.inFlight);
        return down ? { status: 503, delayMs: 20 } : { status: 200, delayMs: 40 };
      };
      const events = [];
      for (let n = 1; n <= 2; n += 1) for (let s = 0; s < 6; s += 1) events.push({ subscriber: `s${s}-`, n: `s${s}-${n}` });
      await emit(service, account, events);
      await worker.runOnce();
      const firstRound = receiver.receipts.length;
      expect(firstRound).to.equal(6); // six subscribers in flight at once; three failures in a row open the circuit
      down = false;
      concurrentAtArrival.length = 0;
      clock.advance(30 * second);
      await worker.runOnce();
      expect(receiver.receipts).to.have.length(firstRound + 12); // the probe, then everything
      expect(concurrentAtArrival[0]).to.equal(1);
      expect(concurrentAtArrival[1], 'nothing joins the probe').to.equal(1);
      expect(Math.max(...concurrentAtArrival)).to.be.above(1);
    });

    it('with WEBHOOK_PARALLELISM=1 sends strictly in event order, one at a time', async () => {
      const strict = await startService({ ALLOW_PRIVATE_TARGETS: '1', WEBHOOK_PARALLELISM: '1' }, { clock });
      try {
        const account = await makeAccount(strict);
        await webhook(strict, account, receiver.url());
        receiver.reply = () => ({ status: 200, delayMs: 10 });
        await emit(strict, account, Array.from({ length: 12 }, (_, i) => ({ subscriber: `s${i % 4}`, n: i })));
        await strict.app.createWorker().runOnce();
        expect(receiver.maxInFlight).to.equal(1);
        expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i));
      } finally {
        await strict.stop();
      }
    });

    it('loads a round by payload bytes as well as rows: large payloads come a few at a time', async () => {
      const account = await makeAccount(service);
      const id = await webhook(service, account, receiver.url());
      const big = 'x'.repeat(100 * 1024);
      await emit(service, account, Array.from({ length: 5 }, (_, i) => ({ n: `${i}${big}` })));
      const { loadPendingDeliveries } = await import('../src/storage/deliveriesStore.js');
      const count = async (limits: { rows: number; bytes: number }) => (await loadPendingDeliveries(service.app.pool, id, { ...limits, beside: 0 }, null)).deliveries.length;
      expect(await count({ rows: 100, bytes: 256 * 1024 })).to.equal(3);
      expect(await count({ rows: 100, bytes: 1024 })).to.equal(1);
      expect(await count({ rows: 2, bytes: 10 * 1024 * 1024 })).to.equal(2);
      await worker.runOnce();
      expect(receiver.receipts).to.have.length(5);
    });

    it('puts beside a full head only the newest deliveries whose lane has nothing older waiting', async () => {
      const account = await makeAccount(service);
      const id = await webhook(service, account, receiver.url());
      // The head (2 rows) holds a and b; of the newest four, a's lane is in the head, the key-less one
      // stays in the queue, e's lane waits behind an older e between head and tail, and f's is free.
      await emit(service, account, ['a', 'b', 'c', 'd', 'e', 'a', 'e', null, 'f'].map((subscriber, n) => ({ subscriber: subscriber ?? undefined, n })));
      const { loadPendingDeliveries } = await import('../src/storage/deliveriesStore.js');
      const round = await loadPendingDeliveries(service.app.pool, id, { rows: 2, bytes: 1024 * 1024, beside: 4 }, null);
      expect(round.deliveries.map((d) => JSON.parse(d.payload).n)).to.deep.equal([8, 0, 1]);
      // Once the older e is delivered, the newer one may go beside as well.
      await service.app.pool.query("update deliveries d join events e on e.id = d.event_id set d.status = 'delivered' where d.webhook_id = ? and e.payload = ?", [id, JSON.stringify({ n: 4 })]);
      const after = await loadPendingDeliveries(service.app.pool, id, { rows: 2, bytes: 1024 * 1024, beside: 4 }, null);
      expect(after.deliveries.map((d) => JSON.parse(d.payload).n)).to.deep.equal([6, 8, 0, 1]);
      await service.app.pool.query("update deliveries set status = 'discarded' where webhook_id = ?", [id]);
    });
  });

  describe('leases (real time)', () => {
    let service: RunningService;
    const env = { ALLOW_PRIVATE_TARGETS: '1', LEASE_SECONDS: '6', DELIVERY_TIMEOUT_MS: '2000', POLL_INTERVAL_MS: '20', RETRY_SCHEDULE: '0.2', DEACTIVATE_AFTER_FAILURES: '100' };

    before(async () => {
      service = await startService(env);
    });
    after(() => service.stop());

    it('records nothing under a lease that was taken over, even by a claim of the same worker', async () => {
      const account = await makeAccount(service);
      const receiver = await new TestReceiver().start();
      const worker = service.app.createWorker('worker-a');
      try {
        const id = await webhook(service, account, receiver.url());
        // While the attempt is in flight, the lease is claimed anew under the same worker id: the round must not record.
        receiver.reply = () => {
          void service.app.pool.query("update webhooks set lease_token = 'later-claim-of-worker-a1' where id = ?", [id]);
          return { status: 200, delayMs: 300 };
        };
        await emit(service, account, [{ n: 1 }]);
        worker.start();
        await receiver.waitFor(1);
        await new Promise((resolve) => setTimeout(resolve, 800));
        await worker.stop();
        const [rows] = await service.app.pool.query<any[]>('select d.status, (select count(*) from attempts a where a.delivery_id = d.id) as attempts from deliveries d where d.webhook_id = ?', [id]);
        expect(rows).to.deep.equal([{ status: 'pending', attempts: 0 }]);
      } finally {
        await receiver.stop();
      }
    });

    it('two workers never have one delivery in flight twice, though a receiver streams 102 Processing for ever', async () => {
      const account = await makeAccount(service);
      const hostile = await new HostileReceiver('flood102').start();
      const workers = [service.anotherProcess().createWorker(), service.anotherProcess().createWorker()];
      try {
        await webhook(service, account, hostile.url());
        await emit(service, account, [{ n: 1 }]);
        workers.forEach((w) => w.start());
        // Longer than a lease: an attempt that outlived it would be claimed and sent again beside itself.
        await new Promise((resolve) => setTimeout(resolve, 8000));
        await Promise.all(workers.map((w) => w.stop()));
        const spans = hostile.connections.map((c) => [c.openedAt, c.closedAt ?? Number.POSITIVE_INFINITY] as const);
        expect(spans.length).to.be.at.least(3); // retried after every deadline
        for (const [opened, closed] of spans) expect(closed - opened, 'an attempt outlived its deadline').to.be.below(2000 + 500);
        for (let i = 1; i < spans.length; i += 1) expect(spans[i]![0], `attempt ${i} began while ${i - 1} was open`).to.be.at.least(spans[i - 1]![1] - 5);
      } finally {
        await hostile.stop();
      }
    });
  });

  describe('isolation (real time)', () => {
    it("one account's hanging endpoints leave another account's webhook its latency", async () => {
      const service = await startService({ ALLOW_PRIVATE_TARGETS: '1', WORKER_CONCURRENCY: '8', DELIVERY_TIMEOUT_MS: '3000', LEASE_SECONDS: '10', POLL_INTERVAL_MS: '20', RETRY_SCHEDULE: '0.1', DEACTIVATE_AFTER_FAILURES: '100' });
      const hostile = await new HostileReceiver('blackHole').start();
      const healthy = await new TestReceiver().start();
      const worker = service.app.createWorker();
      try {
        const noisy = await makeAccount(service);
        const quiet = await makeAccount(service);
        for (let i = 0; i < 12; i += 1) await webhook(service, noisy, hostile.url(`/h${i}`));
        await webhook(service, quiet, healthy.url());
        await emit(service, noisy, Array.from({ length: 24 }, (_, i) => ({ subscriber: `s${i}`, n: i })));
        worker.start();
        await new Promise((resolve) => setTimeout(resolve, 300)); // the noisy account's requests hang now
        const latencies: number[] = [];
        for (let n = 0; n < 8; n += 1) {
          const sent = performance.now();
          await emit(service, quiet, [{ n }]);
          await healthy.waitFor(n + 1, 5000);
          latencies.push(performance.now() - sent);
        }
        expect(hostile.open(), 'the noisy account holds its share of connections').to.be.at.least(2);
        expect(Math.max(...latencies), `latencies ${latencies.map(Math.round).join(', ')} ms`).to.be.below(1000);
      } finally {
        await worker.stop();
        await hostile.stop();
        await healthy.stop();
        await service.stop();
      }
    });

    it('deliveries keep flowing while the SMTP server hangs', async () => {
      const hanging = createServer((socket: Socket) => socket.on('error', () => undefined)); // accepts, never greets
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      const smtpPort = (hanging.address() as AddressInfo).port;
      const service = await startService({ ALLOW_PRIVATE_TARGETS: '1', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, POLL_INTERVAL_MS: '20' });
      const receiver = await new TestReceiver().start();
      const worker = service.app.createWorker();
      try {
        const account = await makeAccount(service);
        const gone = await webhook(service, account, receiver.url('/gone'));
        await webhook(service, account, receiver.url('/fine'));
        receiver.reply = (receipt) => (receipt.path === '/gone' ? { status: 410 } : { status: 200 });
        await emit(service, account, [{ n: 0 }]);
        worker.start();
        await receiver.waitFor(2, 5000); // the 410 deactivates one webhook: its notification e-mail now hangs
        const notified = async () => (await service.app.pool.query<any[]>('select id from notifications where webhook_id = ?', [gone]))[0].length;
        const until = performance.now() + 5000;
        while ((await notified()) === 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await notified()).to.equal(1);
        await new Promise((resolve) => setTimeout(resolve, 1200)); // the notification job has picked it up and waits on the server
        for (let n = 1; n <= 5; n += 1) {
          const sent = performance.now();
          await emit(service, account, [{ n }]);
          await receiver.waitFor(2 + n, 5000);
          expect(performance.now() - sent).to.be.below(1000);
        }
      } finally {
        await worker.stop();
        await receiver.stop();
        await service.stop();
        hanging.close();
      }
    });

    it('on SIGTERM a worker with attempts stuck on hostile receivers exits within the delivery timeout and a few seconds', async () => {
      const service = await startService({ ALLOW_PRIVATE_TARGETS: '1' });
      const hostile = await new HostileReceiver('flood102').start();
      const trickle = await new HostileReceiver('trickle').start();
      try {
        const account = await makeAccount(service);
        await webhook(service, account, hostile.url());
        await webhook(service, account, trickle.url());
        await emit(service, account, [{ n: 1 }]);
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
          env: { ...process.env, DATABASE_URL: service.database.url, ALLOW_PRIVATE_TARGETS: '1', DELIVERY_TIMEOUT_MS: '3000', LEASE_SECONDS: '8', LOG_LEVEL: 'silent' },
          stdio: 'ignore',
        });
        const deadline = performance.now() + 20_000;
        while ((hostile.open() === 0 || trickle.open() === 0) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(hostile.open() + trickle.open()).to.equal(2);
        const stopped = performance.now();
        child.kill('SIGTERM');
        const code = await new Promise((resolve) => child.once('exit', resolve));
        expect(code).to.equal(0);
        expect(performance.now() - stopped).to.be.below(3000 + 3000);
        const [held] = await service.app.pool.query<any[]>('select count(*) as n from webhooks where account_id = ? and locked_by is not null', [account.id]);
        expect(Number(held[0].n), 'leases released').to.equal(0);
      } finally {
        await hostile.stop();
        await trickle.stop();
        await service.stop();
      }
    });
  });
});
