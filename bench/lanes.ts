// Parallel lanes: one webhook, 60 subscribers with 4 events each, a receiver
// that answers after 50 ms. Deliveries per second with WEBHOOK_PARALLELISM=8
// against the same with WEBHOOK_PARALLELISM=1 (strict order), in the same run.
// Target: at least 5×.
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { ArrivalRecorder } from './latencyProbe.js';

const subscribers = 60;
const eventsPerSubscriber = 4;

async function deliveriesPerSecond(parallelism: number): Promise<number> {
  const database = await createTestDatabase();
  const receiver = await new ArrivalRecorder(50).start();
  const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', WEBHOOK_PARALLELISM: String(parallelism) }), silentLogger);
  try {
    const accountId = await createAccount(app.pool, app.clock, { username: 'lanes', password: 'lanes-password', email: 'lanes@example.com', language: 'en' });
    await app.webhooks.create(accountId, { app: 'crm', event: 'optin_finalized', url: receiver.url() });
    const events = [];
    for (let e = 0; e < eventsPerSubscriber; e += 1) {
      for (let s = 0; s < subscribers; s += 1) events.push({ account: 'lanes', event: 'optin_finalized', subscriber: `s${s}`, payload: { n: `s${s}-${e}` } });
    }
    await app.intake.accept(events);
    const started = performance.now();
    const attempted = await app.createWorker().runOnce();
    const seconds = (performance.now() - started) / 1000;
    if (attempted !== events.length || receiver.arrivals.size !== events.length) throw new Error(`benchmark went wrong: ${attempted} attempts, ${receiver.arrivals.size} arrivals`);
    return events.length / seconds;
  } finally {
    await app.close();
    receiver.close();
    await database.drop();
  }
}

export async function benchLanes(): Promise<string[]> {
  const strict = await deliveriesPerSecond(1);
  const parallel = await deliveriesPerSecond(8);
  return [
    `| one webhook, ${subscribers} subscribers × ${eventsPerSubscriber} events, receiver answers after 50 ms, WEBHOOK_PARALLELISM=8 | ${parallel.toFixed(1)}/s | WEBHOOK_PARALLELISM=1 ${strict.toFixed(1)}/s | ${(parallel / strict).toFixed(1)}× (target ≥ 5×) |`,
  ];
}
