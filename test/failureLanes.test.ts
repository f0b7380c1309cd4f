import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { TestReceiver, type Receipt } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';
import { seeded } from './helpers/seeded.js';
import { SmtpSink } from './helpers/smtpSink.js';

const second = 1000;
/** The default schedule's waits, in seconds. */
const schedule = [5, 60, 300, 1200, 3600, 7200, 14400];

const numberOf = (receipt: Receipt) => String(JSON.parse(receipt.body).n);
const subscriberOf = (n: string) => n.split('-')[0]!;

async function countByStatus(service: RunningService, webhookId: number): Promise<Record<string, number>> {
  const [rows] = await service.app.pool.query<any[]>('select status, count(*) as n from deliveries where webhook_id = ? group by status', [webhookId]);
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

describe('failures cost their own lane', function () {
  this.timeout(90_000);
  let receiver: TestReceiver;
  beforeEach(async () => {
    receiver = await new TestReceiver().start();
  });
  afterEach(() => receiver.stop());

  function emit(service: RunningService, account: TestAccount, ns: string[]) {
    return service.app.intake.accept(ns.map((n) => ({ account: account.username, event: 'optin_finalized', subscriber: subscriberOf(n), payload: { n } })));
  }

  describe('with the default schedule (manual clock)', () => {
    let service: RunningService;
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock('2026-06-01T08:00:00Z');
      service = await startService({ ALLOW_PRIVATE_TARGETS: '1' }, { clock });
    });
    afterEach(() => service.stop());

    it('one subscriber always refused while five others flow: only its lane waits, its delivery is given up after the limit, the webhook stays active', async () => {
      const account = await makeAccount(service);
      const { id } = await service.app.webhooks.create(account.id, { app: 'lanes', event: 'optin_finalized', url: receiver.url() });
      receiver.reply = (receipt) => (numberOf(receipt).startsWith('x') ? { status: 400, body: 'record x is invalid' } : { status: 200 });
      const worker = service.app.createWorker();
      await emit(service, account, ['x-1', 'x-2']);
      let round = 0;
      const others = () => ['a', 'b', 'c', 'd', 'e'].map((s) => `${s}-${round}`);
      for (const wait of [0, ...schedule]) {
        clock.advance(wait * second);
        round += 1;
        await emit(service, account, others());
        await worker.runOnce();
        const arrived = receiver.receipts.map(numberOf);
        expect(arrived, `round ${round}: the others of this round arrived`).to.include.members(others());
      }
      const xs = receiver.receipts.map(numberOf).filter((n) => n.startsWith('x'));
      expect(xs, 'x-1 tried 8 times, then x-2 after it').to.deep.equal([...Array(8).fill('x-1'), 'x-2']);
      expect(await countByStatus(service, id)).to.deep.equal({ delivered: 40, failed: 1, pending: 1 });
      const [webhook] = await service.app.webhooks.list(account.id, {});
      expect(webhook).to.deep.include({ active: true });
      const deliveries = await service.app.webhooks.deliveries(account.id, id, { limit: 50, status: 'failed' });
      expect(deliveries).to.have.length(1);
      expect(deliveries[0]).to.deep.include({ status: 'failed', attempts: 8, lastStatusCode: 400 });
    });

    it('an endpoint that is down with 20 lanes waiting: the first round in parallel, then one probe per step, deactivated at the configured step, everything buffered', async () => {
      const account = await makeAccount(service);
      const { id } = await service.app.webhooks.create(account.id, { app: 'down', event: 'optin_finalized', url: receiver.url() });
      receiver.reply = () => ({ status: 502 });
      await emit(service, account, Array.from({ length: 20 }, (_, s) => `s${s}-1`));
      const worker = service.app.createWorker();
      const started = clock.now().getTime();
      expect(await worker.runOnce()).to.equal(8);
      for (const wait of schedule) {
        clock.advance((wait - 0.5) * second);
        expect(await worker.runOnce(), `nothing before the ${wait} s step ends`).to.equal(0);
        clock.advance(0.5 * second);
        expect(await worker.runOnce(), `one probe after the ${wait} s step`).to.equal(1);
      }
      expect(receiver.receipts).to.have.length(15);
      const [row] = (await service.app.pool.query<any[]>('select active, deactivated_at from webhooks where id = ?', [id]))[0];
      expect(row.active).to.equal(0);
      expect((row.deactivated_at.getTime() - started) / 1000).to.equal(7 * 3600 + 26 * 60 + 5);
      expect(await countByStatus(service, id)).to.deep.equal({ buffered: 20 });
    });

    it('a 429 holds the whole webhook for its Retry-After and charges no lane', async () => {
      const account = await makeAccount(service);
      const { id } = await service.app.webhooks.create(account.id, { app: 'slow', event: 'optin_finalized', url: receiver.url() });
      receiver.reply = (_receipt, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 });
      await emit(service, account, ['a-1']);
      const worker = service.app.createWorker();
      expect(await worker.runOnce()).to.equal(1);
      await emit(service, account, ['b-1']);
      clock.advance(119 * second);
      expect(await worker.runOnce(), 'no lane goes while the receiver asked to wait').to.equal(0);
      clock.advance(1 * second);
      expect(await worker.runOnce()).to.equal(2);
      const [rows] = await service.app.pool.query<any[]>('select failures, status from deliveries where webhook_id = ? order by id', [id]);
      expect(rows).to.deep.equal([{ failures: 0, status: 'delivered' }, { failures: 0, status: 'delivered' }]);
    });
  });

  it('a receiver that fails a fixed 2% of requests: subscribers that met no failure get every event within two seconds, 95% of all within 10 s', async () => {
    const service = await startService({ ALLOW_PRIVATE_TARGETS: '1', POLL_INTERVAL_MS: '200' });
    try {
      service.app.enableDirectDelivery();
      const worker = service.app.createWorker();
      worker.start();
      const account = await makeAccount(service);
      await service.app.webhooks.create(account.id, { app: 'flaky', event: 'optin_finalized', url: receiver.url() });
      const random = seeded(20261130);
      const arrivals = new Map<string, number>();
      const failedSubscribers = new Set<string>();
      receiver.reply = (receipt) => {
        const n = numberOf(receipt);
        if (random() < 0.02) {
          failedSubscribers.add(subscriberOf(n));
          return { status: 502, body: 'bad gateway' };
        }
        if (!arrivals.has(n)) arrivals.set(n, Date.now());
        return { status: 200 };
      };
      const emitted = new Map<string, number>();
      const events = 240;
      for (let i = 0; i < events; i += 1) {
        const n = `s${i % 20}-${Math.floor(i / 20)}`;
        emitted.set(n, Date.now());
        await emit(service, account, [n]);
        await new Promise((resolve) => setTimeout(resolve, 25)); // 40 events a second
      }
      const deadline = Date.now() + 20_000;
      while (arrivals.size < events && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      await worker.stop();
      expect(arrivals.size, 'every event arrived').to.equal(events);
      expect(failedSubscribers.size, 'the seed makes some requests fail').to.be.within(1, 10);
      const latency = (n: string) => arrivals.get(n)! - emitted.get(n)!;
      const untouched = [...emitted.keys()].filter((n) => !failedSubscribers.has(subscriberOf(n)));
      expect(untouched.length).to.be.above(events / 2);
      expect(Math.max(...untouched.map(latency)), 'subscribers that met no failure').to.be.below(2000);
      const onTime = [...emitted.keys()].filter((n) => latency(n) < 10_000).length;
      expect(onTime / events).to.be.at.least(0.95);
    } finally {
      await service.stop();
    }
  });

  it('keeps every subscriber in event order under random failures with two workers, one of them killed mid-run', async () => {
    const env = { ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '0.2,0.5', DEACTIVATE_AFTER_FAILURES: '30', LEASE_SECONDS: '4', DELIVERY_TIMEOUT_MS: '1000', POLL_INTERVAL_MS: '20' };
    const service = await startService(env);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
      env: { ...process.env, ...env, DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    try {
      const account = await makeAccount(service);
      const { id } = await service.app.webhooks.create(account.id, { app: 'order', event: 'optin_finalized', url: receiver.url() });
      const random = seeded(7);
      const outcomes: Array<{ n: string; ok: boolean }> = [];
      receiver.reply = (receipt) => {
        const ok = random() >= 0.15;
        outcomes.push({ n: numberOf(receipt), ok });
        return ok ? { status: 200, delayMs: 5 } : { status: 500 };
      };
      const subscribers = 12;
      const perSubscriber = 15;
      const ns: string[] = [];
      for (let k = 1; k <= perSubscriber; k += 1) for (let s = 0; s < subscribers; s += 1) ns.push(`s${s}-${k}`);
      await emit(service, account, ns);
      await receiver.waitFor(30, 20_000);
      child.kill('SIGKILL');
      const worker = service.app.createWorker();
      worker.start();
      const deadline = Date.now() + 40_000;
      while (((await countByStatus(service, id)).delivered ?? 0) < ns.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      await worker.stop();
      expect(await countByStatus(service, id)).to.deep.equal({ delivered: ns.length });
      // Per subscriber: no event arrives before every earlier one has been accepted. Repeats are the killed
      // worker's unrecorded round coming again (at-least-once; the receiver deduplicates by webhook-id).
      for (let s = 0; s < subscribers; s += 1) {
        const accepted = new Set<number>();
        for (const { n, ok } of outcomes.filter((o) => subscriberOf(o.n) === `s${s}`)) {
          const k = Number(n.split('-')[1]);
          for (let earlier = 1; earlier < k; earlier += 1) expect(accepted.has(earlier), `s${s}-${k} arrived before s${s}-${earlier} was accepted`).to.equal(true);
          if (ok) accepted.add(k);
        }
        expect(accepted.size).to.equal(perSubscriber);
      }
      // Sequences: given out once at intake, each subscriber's chain intact whoever sent it, however often.
      const numbers = new Map<string, Set<string>>();
      for (const receipt of receiver.receipts) {
        const n = numberOf(receipt);
        numbers.set(n, (numbers.get(n) ?? new Set()).add(`${receipt.headers['webhook-sequence']}/${receipt.headers['webhook-previous-sequence']}`));
      }
      expect([...numbers.values()].every((set) => set.size === 1), 'every repeat carries its first numbers').to.equal(true);
      const [sequence, previous] = [0, 1].map((part) => (n: string) => Number([...numbers.get(n)!][0]!.split('/')[part]));
      for (let s = 0; s < subscribers; s += 1) {
        expect(previous!(`s${s}-1`)).to.equal(0);
        for (let k = 2; k <= perSubscriber; k += 1) expect(previous!(`s${s}-${k}`), `s${s}-${k}`).to.equal(sequence!(`s${s}-${k - 1}`));
      }
    } finally {
      child.kill('SIGKILL');
      await service.stop();
    }
  });

  describe('the given-up e-mail', () => {
    let sink: SmtpSink;
    let service: RunningService;
    const clock = new ManualClock('2026-06-01T08:00:00Z');

    before(async () => {
      sink = new SmtpSink();
      const port = await sink.start();
      service = await startService(
        { ALLOW_PRIVATE_TARGETS: '1', SMTP_URL: `smtp://127.0.0.1:${port}`, RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '3', WARN_AFTER_FAILURES: '0' },
        { clock },
      );
    });
    after(async () => {
      await service.stop();
      await sink.stop();
    });

    /** Fails x's deliveries until each is given up, while another subscriber's events go through at every step. */
    async function giveUp(account: TestAccount, ns: string[]): Promise<void> {
      const worker = service.app.createWorker();
      await emit(service, account, ns);
      for (let step = 0; step < 3 * ns.length; step += 1) {
        await emit(service, account, [`a-${ns[0]}-${step}`]);
        await worker.runOnce();
        clock.advance(60 * second);
      }
    }

    for (const language of ['en', 'de'] as const) {
      it(`tells how many deliveries were given up, at most once a day per webhook (${language})`, async () => {
        sink.messages.length = 0;
        const account = await makeAccount(service, { language });
        const { id } = await service.app.webhooks.create(account.id, { app: 'shop', event: 'optin_finalized', url: receiver.url() });
        receiver.reply = (receipt) => (numberOf(receipt).startsWith('x') ? { status: 422, body: 'unprocessable' } : { status: 200 });
        await giveUp(account, ['x-1']);
        expect(sink.messages).to.have.length(1);
        const [first] = sink.messages;
        expect(first!.subject).to.equal(language === 'en' ? 'Webhook shop: 1 delivery given up' : 'Webhook shop: 1 Zustellung aufgegeben');
        expect(first!.text).to.include(`${service.baseUrl}/portal/webhooks/${id}`);
        expect(first!.text).to.include(`id=${id}`).and.include('status=failed');

        await giveUp(account, ['x-2', 'x-3']);
        expect(sink.messages, 'no second e-mail within a day').to.have.length(1);
        clock.advance(24 * 3600 * second);
        await service.app.createWorker().runOnce();
        expect(sink.messages).to.have.length(2);
        expect(sink.messages[1]!.subject).to.equal(language === 'en' ? 'Webhook shop: 2 deliveries given up' : 'Webhook shop: 2 Zustellungen aufgegeben');
        expect(sink.messages[1]!.text).to.include(language === 'en' ? 'Since ' : 'Seit ');
        expect(await countByStatus(service, id)).to.deep.include({ failed: 3 });
      });
    }
  });
});
