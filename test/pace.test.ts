import { expect } from 'chai';
import { eventNames } from '../src/domain/webhook.js';
import { LoadedReceiver, type LoadedRequest } from './helpers/loadedReceiver.js';
import { PhpShop } from './helpers/phpShop.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

const realTime = { ALLOW_PRIVATE_TARGETS: '1', POLL_INTERVAL_MS: '20' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sent {
  event: string;
  subscriber: string;
  n: number;
}

const sentOf = (request: LoadedRequest): Sent => JSON.parse(request.body);

/** One webhook per event, all on one URL, as most shops register them. */
async function threeWebhooks(service: RunningService, account: TestAccount, url: string, extra: { maxPerSecond?: number } = {}): Promise<number[]> {
  const ids: number[] = [];
  for (const event of eventNames) ids.push((await service.app.webhooks.create(account.id, { app: `shop ${event}`, event, url, ...extra })).id);
  return ids;
}

/** `perSubscriber` events of each kind for each of `subscribers`, the payload saying which. */
async function burst(service: RunningService, account: TestAccount, subscribers: number, perSubscriber: number): Promise<number> {
  let count = 0;
  for (let n = 0; n < perSubscriber; n += 1) {
    const events = [];
    for (let s = 0; s < subscribers; s += 1) {
      for (const event of eventNames) events.push({ account: account.username, event, subscriber: `s${s}`, payload: { event, subscriber: `s${s}`, n } });
    }
    await service.app.intake.accept(events);
    count += events.length;
  }
  return count;
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (!done() && performance.now() < until) await sleep(20);
  return done();
}

async function laneCosts(service: RunningService): Promise<{ failures: number; notDelivered: number; inactive: number }> {
  const [[row]] = await service.app.pool.query<any[]>(
    "select coalesce(sum(failures), 0) as failures, coalesce(sum(status <> 'delivered'), 0) as notDelivered from deliveries",
  );
  const [[webhooks]] = await service.app.pool.query<any[]>('select count(*) as inactive from webhooks where not active');
  return { failures: Number(row.failures), notDelivered: Number(row.notDelivered), inactive: Number(webhooks.inactive) };
}

/** Each subscriber's events of each kind arrived in the order they were emitted. */
function orderKept(accepted: LoadedRequest[]): boolean {
  const last = new Map<string, number>();
  for (const { event, subscriber, n } of accepted.map(sentOf)) {
    const lane = `${event} ${subscriber}`;
    if ((last.get(lane) ?? -1) >= n) return false;
    last.set(lane, n);
  }
  return true;
}

describe('the receiver sets the pace', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: LoadedReceiver;
  afterEach(async () => {
    await receiver?.stop();
    await service?.stop();
  });

  it('a small PHP-FPM-like server (4 workers, backlog 4, 50 ms a request) takes a burst on three webhooks of one URL with almost no 503s, close to its own time, nothing charged', async () => {
    service = await startService(realTime);
    receiver = await new LoadedReceiver({ workers: 4, backlog: 4, serviceMs: 50 }).start();
    const account = await makeAccount(service);
    await threeWebhooks(service, account, receiver.url());
    const worker = service.app.createWorker();
    const total = await burst(service, account, 60, 2);
    const serverMs = (total * 50) / 4;
    const started = performance.now();
    worker.start();
    try {
      const drained = await waitUntil(() => receiver.accepted().length >= total, 30_000);
      const tookMs = performance.now() - started;
      const refused = receiver.requests.filter((r) => r.status === 503).length;
      expect(drained, `${receiver.accepted().length} of ${total} arrived`).to.equal(true);
      expect(refused / receiver.requests.length, `${refused} of ${receiver.requests.length} requests answered 503`).to.be.below(0.1);
      expect(tookMs, `drained in ${Math.round(tookMs)} ms; the server itself needs ${serverMs} ms`).to.be.below(serverMs * 2 + 1000);
      expect(orderKept(receiver.accepted()), 'order per subscriber').to.equal(true);
    } finally {
      await worker.stop();
    }
    expect(await laneCosts(service), 'no lane charged, nothing left, nothing deactivated').to.deep.equal({ failures: 0, notDelivered: 0, inactive: 0 });
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const refusedNow = receiver.requests.filter((r) => r.status === 503).length;
    expect(metrics, 'load answers counted').to.match(new RegExp(`^webhooks_load_answers_total ${refusedNow}$`, 'm'));
    expect(Number(/^webhooks_pace_waits_total (\d+)$/m.exec(metrics)?.[1]), 'sends that waited for the pace').to.be.above(0);
  });

  it('the real thing: nginx in front of PHP-FPM (4 children, backlog 4, 30 ms a request) takes a burst on three webhooks of one URL with few refusals, close to its own time, nothing charged', async () => {
    service = await startService(realTime);
    const shop = await new PhpShop({ children: 4, backlog: 4, scriptMs: 30 }).start();
    const worker = service.app.createWorker();
    try {
      const account = await makeAccount(service);
      await threeWebhooks(service, account, shop.url());
      const total = await burst(service, account, 60, 2);
      const serverMs = (total * 30) / 4;
      const started = performance.now();
      worker.start();
      const drained = await waitUntil(() => shop.received().length >= total, 30_000);
      const tookMs = performance.now() - started;
      const refused = shop.statuses().filter((status) => status !== 200);
      expect(drained, `${shop.received().length} of ${total} arrived`).to.equal(true);
      expect(refused.length / shop.statuses().length, `${refused.length} of ${shop.statuses().length} requests refused (${[...new Set(refused)].join(', ')})`).to.be.below(0.1);
      expect(tookMs, `drained in ${Math.round(tookMs)} ms; the server itself needs ${serverMs} ms`).to.be.below(serverMs * 2 + 1000);
      expect(orderKept(shop.received().map((body) => ({ status: 200, body, arrivedAt: 0, busyOnArrival: 0 }))), 'order per subscriber').to.equal(true);
    } finally {
      await worker.stop();
      await shop.stop();
    }
    expect(await laneCosts(service), 'no lane charged, nothing left, nothing deactivated').to.deep.equal({ failures: 0, notDelivered: 0, inactive: 0 });
  });

  it('a steady trickle (one event at a time, each its own lease) with a 502 now and then: the refused one goes again at once, its lane not charged', async () => {
    service = await startService(realTime);
    const refusedOnce = new Set<number>();
    receiver = await new LoadedReceiver({
      workers: 10, backlog: 0, serviceMs: 1,
      refuse: (request) => {
        const { n } = sentOf(request);
        if (n % 10 !== 5 || refusedOnce.has(n)) return undefined;
        refusedOnce.add(n);
        return { status: 502 };
      },
    }).start();
    const account = await makeAccount(service);
    await service.app.webhooks.create(account.id, { app: 'trickle', event: 'optin_finalized', url: receiver.url() });
    service.app.enableDirectDelivery();
    const worker = service.app.createWorker();
    worker.start();
    try {
      for (let n = 0; n < 40; n += 1) {
        await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber: `s${n % 5}`, payload: { event: 'optin_finalized', subscriber: `s${n % 5}`, n } }]);
        await sleep(50);
      }
      expect(await waitUntil(() => receiver.accepted().length >= 40, 3000), `${receiver.accepted().length} of 40 arrived within 3 s (a lane's retry step is 5 s)`).to.equal(true);
    } finally {
      await worker.stop();
    }
    expect(refusedOnce.size).to.equal(4);
    expect(orderKept(receiver.accepted()), 'order per subscriber').to.equal(true);
    expect(await laneCosts(service)).to.deep.equal({ failures: 0, notDelivered: 0, inactive: 0 });
  });

  it('a server whose latency climbs with load (no 503 at all): the window stops growing where latency climbs', async () => {
    service = await startService(realTime);
    receiver = await new LoadedReceiver({ workers: 1000, backlog: 0, serviceMs: 20, perConcurrentMs: 20 }).start();
    const account = await makeAccount(service);
    await threeWebhooks(service, account, receiver.url());
    const worker = service.app.createWorker();
    const total = await burst(service, account, 50, 2);
    worker.start();
    try {
      await sleep(1000);
      receiver.resetPeak();
      const drained = await waitUntil(() => receiver.accepted().length >= total, 30_000);
      expect(drained, `${receiver.accepted().length} of ${total} arrived`).to.equal(true);
      // Without a pace the three webhooks keep 3 × WEBHOOK_PARALLELISM = 24 in flight, each answered in 480 ms.
      expect(receiver.peakBusy, 'requests in flight at once after the first second').to.be.at.most(8);
      expect(orderKept(receiver.accepted()), 'order per subscriber').to.equal(true);
    } finally {
      await worker.stop();
    }
    expect(await laneCosts(service)).to.deep.equal({ failures: 0, notDelivered: 0, inactive: 0 });
  });

  it('a server that answers 429 with Retry-After: 1 for a while: nothing arrives before the second is over, then everything, charging nothing', async () => {
    service = await startService(realTime);
    let refuseUntil = Infinity;
    const refusals: number[] = [];
    receiver = await new LoadedReceiver({
      workers: 4, backlog: 100, serviceMs: 10,
      refuse: (request) => {
        if (refuseUntil === Infinity && receiver.requests.length > 20) refuseUntil = request.arrivedAt + 1500;
        if (request.arrivedAt >= refuseUntil) return undefined;
        if (refuseUntil === Infinity) return undefined;
        refusals.push(request.arrivedAt);
        return { status: 429, headers: { 'retry-after': '1' } };
      },
    }).start();
    const account = await makeAccount(service);
    await threeWebhooks(service, account, receiver.url());
    const worker = service.app.createWorker();
    const total = await burst(service, account, 20, 3);
    worker.start();
    try {
      const drained = await waitUntil(() => receiver.accepted().length >= total, 20_000);
      expect(drained, `${receiver.accepted().length} of ${total} arrived`).to.equal(true);
      expect(refusals.length, 'the receiver refused some').to.be.above(0);
      // What was already on its way may arrive just after a 429; nothing new is sent within the second it asked for.
      const first429 = refusals[0]!;
      const within = receiver.requests.filter((r) => r.arrivedAt > first429 + 50 && r.arrivedAt < first429 + 950);
      expect(within.length, 'requests within the second a 429 asked for').to.equal(0);
      const last = Math.max(...receiver.accepted().map((r) => r.arrivedAt));
      expect(last - refuseUntil, 'drained within 2 s of the refusals ending').to.be.below(2000);
      expect(orderKept(receiver.accepted()), 'order per subscriber').to.equal(true);
    } finally {
      await worker.stop();
    }
    expect(await laneCosts(service)).to.deep.equal({ failures: 0, notDelivered: 0, inactive: 0 });
  });

  it('maxPerSecond=25 with 250 events waiting, two workers taking turns, retries, resends and a recovery in the mix: never more than 25 in any second', async () => {
    service = await startService({ ...realTime, RETRY_SCHEDULE: '0.3', LEASE_SECONDS: '25' });
    const firstAttempts = new Set<string>();
    receiver = await new LoadedReceiver({
      workers: 1000, backlog: 0, serviceMs: 5,
      // Every seventh delivery fails its first attempt: its retry counts against the throttle too.
      refuse: (request) => {
        const { subscriber, n } = sentOf(request);
        const key = `${subscriber} ${n}`;
        if (Number(subscriber.slice(1)) % 7 !== 0 || firstAttempts.has(key)) return undefined;
        firstAttempts.add(key);
        return { status: 500 };
      },
    }).start();
    const account = await makeAccount(service);
    const { id } = await service.app.webhooks.create(account.id, { app: 'throttled', event: 'optin_finalized', url: receiver.url(), maxPerSecond: 25 });
    const since = new Date(Date.now() - 60_000);
    const givenUp = Array.from({ length: 25 }, (_, i) => ({ account: account.username, event: 'optin_finalized', subscriber: `r${i}`, payload: { event: 'optin_finalized', subscriber: `r${i}`, n: 0 } }));
    await service.app.intake.accept(givenUp);
    await service.app.pool.query("update deliveries set status = 'failed', finished_at = utc_timestamp(3) where webhook_id = ?", [id]);
    const events = Array.from({ length: 250 }, (_, i) => ({ account: account.username, event: 'optin_finalized', subscriber: `s${i % 50}`, payload: { event: 'optin_finalized', subscriber: `s${i % 50}`, n: Math.floor(i / 50) } }));
    await service.app.intake.accept(events);
    const workers = [service.app.createWorker(), service.app.createWorker()];
    workers.forEach((worker) => worker.start());
    try {
      // Each worker stops once and a fresh one takes its place: the lease moves, the throttle holds across it.
      await sleep(2500);
      await workers[0]!.stop();
      workers[0] = service.app.createWorker();
      workers[0].start();
      const delivered = await service.app.webhooks.deliveries(account.id, id, { limit: 20, status: 'delivered' });
      for (const delivery of delivered) await service.app.webhooks.resend(account.id, id, delivery.id);
      expect(await service.app.webhooks.recover(account.id, id, { since })).to.equal(givenUp.length);
      await sleep(2500);
      await workers[1]!.stop();
      workers[1] = service.app.createWorker();
      workers[1].start();
      const expected = 250 + delivered.length + givenUp.length;
      const drained = await waitUntil(() => receiver.accepted().length >= expected, 30_000);
      expect(drained, `${receiver.accepted().length} of ${expected} arrived`).to.equal(true);
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
    const arrivals = receiver.requests.map((r) => r.arrivedAt).sort((a, b) => a - b);
    expect(receiver.requests.length, 'retries, resends and the recovery came too').to.be.above(295);
    expect(receiver.mostInAnySecond(), 'requests within any one second').to.be.at.most(25);
    const seconds = (arrivals[arrivals.length - 1]! - arrivals[0]!) / 1000;
    expect(receiver.requests.length / seconds, 'and close to the throttle on average').to.be.above(18);
  });

  it('a recovery of 10,000 deliveries: live events of other subscribers go beside it, not behind it', async () => {
    service = await startService(realTime);
    receiver = await new LoadedReceiver({ workers: 1000, backlog: 0, serviceMs: 0 }).start();
    const account = await makeAccount(service);
    const { id } = await service.app.webhooks.create(account.id, { app: 'recovered', event: 'optin_finalized', url: receiver.url() });
    const since = new Date(Date.now() - 60_000);
    for (let start = 0; start < 10_000; start += 1000) {
      await service.app.intake.accept(Array.from({ length: 1000 }, (_, i) => ({
        account: account.username, event: 'optin_finalized', subscriber: `s${(start + i) % 100}`, payload: { event: 'optin_finalized', subscriber: `s${(start + i) % 100}`, n: start + i },
      })));
    }
    // Given up after an afternoon of a broken receiver.
    await service.app.pool.query("update deliveries set status = 'failed', finished_at = utc_timestamp(3) where webhook_id = ?", [id]);
    await service.app.pool.query('update webhooks set due_at = null where id = ?', [id]);
    const worker = service.app.createWorker();
    worker.start();
    const live: Array<{ subscriber: string; recoveredBefore: number }> = [];
    try {
      expect(await service.app.webhooks.recover(account.id, id, { since })).to.equal(10_000);
      const recoveredArrived = () => receiver.accepted().length - live.filter((l) => arrivedLive(l.subscriber)).length;
      const arrivedLive = (subscriber: string) => receiver.accepted().some((r) => sentOf(r).subscriber === subscriber);
      for (let i = 0; i < 20; i += 1) {
        await sleep(100);
        const subscriber = `live${i}`;
        live.push({ subscriber, recoveredBefore: recoveredArrived() });
        await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber, payload: { event: 'optin_finalized', subscriber, n: 0 } }]);
      }
      expect(await waitUntil(() => receiver.accepted().length >= 10_020, 60_000), `${receiver.accepted().length} of 10,020 arrived`).to.equal(true);
    } finally {
      await worker.stop();
    }
    // How many recovered deliveries reached the receiver between a live event's intake and its own arrival:
    // a round's worth at most (it joins the next round), never the rest of the recovery.
    const accepted = receiver.accepted().map(sentOf);
    const overtaken = live.map(({ subscriber, recoveredBefore }) => {
      const at = accepted.findIndex((sent) => sent.subscriber === subscriber);
      return accepted.slice(0, at).filter((sent) => !sent.subscriber.startsWith('live')).length - recoveredBefore;
    });
    expect(live[live.length - 1]!.recoveredBefore, 'the live events came while the recovery was under way').to.be.below(9_000);
    expect(Math.max(...overtaken), `recovered deliveries ahead of each live event: ${overtaken.join(', ')}`).to.be.at.most(250);
    expect(orderKept(receiver.accepted()), 'order per subscriber').to.equal(true);
  });

  it('maxPerSecond: 0 or empty is no limit; negative, 1001, a fraction or text answer error 3 naming it', async () => {
    service = await startService(realTime);
    receiver = await new LoadedReceiver({ workers: 1, backlog: 0, serviceMs: 1 }).start();
    const account = await makeAccount(service);
    const call = (maxPerSecond: unknown) =>
      service.app.webservice.call('CreateWebHook', { username: account.username, password: account.password, app: 'x', event: 'optin_finalized', url: receiver.url(), maxPerSecond }, {});
    for (const none of ['0', '', undefined]) {
      const outcome = await call(none);
      expect(outcome.result, JSON.stringify(none)).to.deep.include({ maxPerSecond: null });
    }
    expect((await call('20')).result).to.deep.include({ maxPerSecond: 20 });
    for (const bad of ['-1', '1001', '2.5', 'twenty', '1e3']) {
      const refusal = await call(bad).then(() => undefined, (error: any) => error);
      expect(refusal, bad).to.include({ code: 3 });
      expect(refusal.message, bad).to.contain('maxPerSecond');
    }
    expect(await service.app.webhooks.list(account.id, {}), 'nothing created by the refused calls').to.have.length(4);
  });
});
