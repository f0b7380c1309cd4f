// The receiver's pace.
// - A shop's small server: a PHP-FPM-like receiver (4 workers, a backlog of 4,
//   50 ms a request, 503 at once when both are full), one shop with three
//   webhooks (one per event) on its URL, 1,200 events of 300 subscribers
//   within 5 s; serve (direct delivery) and a worker in one process. The share
//   of requests answered 503 and the time until the last event arrived,
//   against the time the server itself needs (1,200 × 50 ms / 4), beside the
//   previous release in the same run.
// - The throttle: maxPerSecond=20 with 600 events waiting and two workers:
//   the most requests the receiver saw in any one second, and the mean rate.
import { eventNames } from '../src/domain/webhook.js';
import { LoadedReceiver } from '../test/helpers/loadedReceiver.js';
import { besidePreviousRelease, subjectOf, type Subject } from './subjects.js';
import { thisTree } from './releases.js';

const limitSeconds = Number(process.env.BENCH_PACE_LIMIT_SECONDS ?? 120);
const workers = 4;
const serviceMs = 50;
const subscribers = 300;
const eventsPerSubscriber = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Burst {
  requests: number;
  refused: number;
  arrived: number;
  total: number;
  /** Intake's start to the last arrival; null when not everything arrived within the limit. */
  drainedMs: number | null;
  lastArrivalMs: number;
  notDelivered: number;
  inactive: number;
}

async function smallServerBurst({ Application, loadConfig, silentLogger, createAccount, createDatabase }: Subject): Promise<Burst> {
  const database = await createDatabase();
  const receiver = await new LoadedReceiver({ workers, backlog: 4, serviceMs }).start();
  const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOG_LEVEL: 'silent' }), silentLogger);
  const worker = app.createWorker();
  try {
    const accountId = await createAccount(app.pool, app.clock, { username: 'shop', password: 'shop-password', email: 'shop@example.com', language: 'en' });
    for (const event of eventNames) await app.webhooks.create(accountId, { app: `shop ${event}`, event, url: receiver.url() });
    app.enableDirectDelivery();
    worker.start();
    const total = subscribers * eventsPerSubscriber;
    const batches = 50;
    const started = receiver.now();
    for (let batch = 0; batch < batches; batch += 1) {
      const events = Array.from({ length: total / batches }, (_, i) => {
        const n = batch * (total / batches) + i;
        return { account: 'shop', event: eventNames[n % eventNames.length]!, subscriber: `s${n % subscribers}`, payload: { n } };
      });
      await app.intake.accept(events);
      await sleep(5000 / batches);
    }
    const until = performance.now() + limitSeconds * 1000;
    while (receiver.accepted().length < total && performance.now() < until) await sleep(100);
    const accepted = receiver.accepted();
    const lastArrivalMs = Math.max(...accepted.map((r) => r.arrivedAt)) - started;
    const [[counts]] = await app.pool.query<any[]>("select coalesce(sum(status not in ('delivered', 'pending')), 0) as notDelivered from deliveries");
    const [[webhooks]] = await app.pool.query<any[]>('select count(*) as inactive from webhooks where not active');
    return {
      requests: receiver.requests.length,
      refused: receiver.requests.filter((r) => r.status === 503).length,
      arrived: accepted.length,
      total,
      drainedMs: accepted.length >= total ? lastArrivalMs : null,
      lastArrivalMs,
      notDelivered: Number(counts.notDelivered),
      inactive: Number(webhooks.inactive),
    };
  } finally {
    await worker.stop();
    await app.close();
    await receiver.stop();
    await database.drop();
  }
}

async function throttle({ Application, loadConfig, silentLogger, createAccount, createDatabase }: Subject): Promise<{ busiest: number; mean: number; count: number }> {
  const database = await createDatabase();
  const receiver = await new LoadedReceiver({ workers: 1000, backlog: 0, serviceMs: 2 }).start();
  const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOG_LEVEL: 'silent' }), silentLogger);
  const pair = [app.createWorker(), app.createWorker()];
  try {
    const accountId = await createAccount(app.pool, app.clock, { username: 'throttled', password: 'throttled-password', email: 't@example.com', language: 'en' });
    await app.webhooks.create(accountId, { app: 'throttled', event: 'optin_finalized', url: receiver.url(), maxPerSecond: 20 });
    const count = 600;
    await app.intake.accept(Array.from({ length: count }, (_, n) => ({ account: 'throttled', event: 'optin_finalized', subscriber: `s${n % 100}`, payload: { n } })));
    pair.forEach((worker) => worker.start());
    while (receiver.accepted().length < count) await sleep(100);
    const arrivals = receiver.requests.map((r) => r.arrivedAt).sort((a, b) => a - b);
    return { busiest: receiver.mostInAnySecond(), mean: arrivals.length / ((arrivals[arrivals.length - 1]! - arrivals[0]!) / 1000), count };
  } finally {
    await Promise.all(pair.map((worker) => worker.stop()));
    await app.close();
    await receiver.stop();
    await database.drop();
  }
}

export async function benchPace(): Promise<string[]> {
  const { current, previous, previousLabel } = await besidePreviousRelease(smallServerBurst);
  const serverMs = (subscribers * eventsPerSubscriber * serviceMs) / workers;
  const describe = (burst: Burst) => {
    const share = `${((burst.refused / burst.requests) * 100).toFixed(0)}% answered 503 (${burst.refused} of ${burst.requests})`;
    const drained = burst.drainedMs === null
      ? `${burst.total - burst.arrived} of ${burst.total} still missing after ${limitSeconds} s`
      : `all ${burst.total} arrived after ${(burst.drainedMs / 1000).toFixed(1)} s (${(burst.drainedMs / serverMs).toFixed(1)}× the server's own ${serverMs / 1000} s)`;
    return `${share}; ${drained}; ${burst.notDelivered} given up, ${burst.inactive} deactivated`;
  };
  const throttled = await throttle(await subjectOf(thisTree));
  return [
    `| a shop's small server (${workers} workers, backlog 4, ${serviceMs} ms a request, 503 when full), three webhooks on its URL, ${subscribers * eventsPerSubscriber} events of ${subscribers} subscribers within 5 s | ${describe(current[0]!)} | ${previousLabel}: ${describe(previous[0]!)} | |`,
    `| maxPerSecond=20, ${throttled.count} events waiting, two workers: most requests in any one second / mean rate | ${throttled.busiest} / ${throttled.mean.toFixed(1)}/s | the throttle 20/s | ${(throttled.mean / 20).toFixed(2)} |`,
  ];
}
