// Recovering 10,000 given-up deliveries of one webhook (100 subscribers, a
// receiver that answers at once): how long RecoverWebHookDeliveries takes to
// schedule them and the worker to deliver them, and the intake-to-receipt
// latency of new events of the same webhook meanwhile (20/s), beside the same
// new events with no recovery under way. serve (direct delivery) and a worker
// in one process, as npm start runs them.
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { ArrivalRecorder, latencies, ms, type Latencies } from './latencyProbe.js';

const recovered = 10_000;
const newEvents = 100;
const perSecond = 20;

async function run(recover: boolean): Promise<{ scheduleMs: number; deliverMs: number; latency: Latencies }> {
  const database = await createTestDatabase();
  const receiver = await new ArrivalRecorder().start();
  const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOG_LEVEL: 'silent' }), silentLogger);
  const worker = app.createWorker();
  try {
    const accountId = await createAccount(app.pool, app.clock, { username: 'recover', password: 'recover-password', email: 'r@example.com', language: 'en' });
    const webhook = await app.webhooks.create(accountId, { app: 'crm', event: 'optin_finalized', url: receiver.url() });
    const since = new Date(Date.now() - 60_000);
    for (let start = 0; start < recovered; start += 500) {
      await app.intake.accept(Array.from({ length: 500 }, (_, i) => ({ account: 'recover', event: 'optin_finalized', subscriber: `s${(start + i) % 100}`, payload: { n: `old-${start + i}` } })));
    }
    // Given up yesterday, as after an afternoon of a broken receiver.
    await app.pool.query("update deliveries set status = 'failed', finished_at = utc_timestamp(3) where webhook_id = ?", [webhook.id]);
    await app.pool.query("update webhooks set due_at = null where id = ?", [webhook.id]);
    app.enableDirectDelivery();
    worker.start();
    let scheduleMs = 0;
    const started = performance.now();
    if (recover) {
      const scheduled = await app.webhooks.recover(accountId, webhook.id, { since });
      scheduleMs = performance.now() - started;
      if (scheduled !== recovered) throw new Error(`benchmark went wrong: ${scheduled} scheduled`);
    }
    const emitted = new Map<string, number>();
    for (let i = 0; i < newEvents; i += 1) {
      const wait = started + (i * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const n = `new-${i}`;
      emitted.set(n, performance.now());
      await app.intake.accept([{ account: 'recover', event: 'optin_finalized', subscriber: `new${i}`, payload: { n } }]);
    }
    await receiver.waitFor((recover ? recovered : 0) + newEvents, 120_000);
    const deliverMs = performance.now() - started;
    return { scheduleMs, deliverMs, latency: latencies(emitted, receiver.arrivals) };
  } finally {
    await worker.stop();
    await app.close();
    receiver.close();
    await database.drop();
  }
}

export async function benchRecover(): Promise<string[]> {
  const quiet = await run(false);
  const busy = await run(true);
  return [
    `| RecoverWebHookDeliveries of ${recovered} given-up deliveries (100 subscribers): scheduled / all delivered | ${ms(busy.scheduleMs)} / ${(busy.deliverMs / 1000).toFixed(1)} s | | |`,
    `| new events of the same webhook meanwhile (${perSecond}/s, each a subscriber of its own): intake-to-receipt p50 / p99 (received ${busy.latency.received} of ${busy.latency.count}) | ${ms(busy.latency.p50)} / ${ms(busy.latency.p99)} | no recovery ${ms(quiet.latency.p50)} / ${ms(quiet.latency.p99)} | p99 ${(busy.latency.p99 / quiet.latency.p99).toFixed(1)}× |`,
  ];
}
