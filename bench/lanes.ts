// Parallel lanes: one webhook, 60 subscribers with 4 events each, a receiver
// that answers after 50 ms. Deliveries per second with WEBHOOK_PARALLELISM=8
// against the same with WEBHOOK_PARALLELISM=1 (strict order), in the same run.
// Target: at least 5×. Beside the previous release in the same run.
import { ArrivalRecorder } from './latencyProbe.js';
import { besidePreviousRelease, spread, type Subject } from './subjects.js';

const subscribers = 60;
const eventsPerSubscriber = 4;

async function deliveriesPerSecond({ Application, loadConfig, silentLogger, createAccount, createDatabase }: Subject, parallelism: number): Promise<number> {
  const database = await createDatabase();
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
  const measure = async (subject: Subject) => ({ strict: await deliveriesPerSecond(subject, 1), parallel: await deliveriesPerSecond(subject, 8) });
  const { current, previous, previousLabel } = await besidePreviousRelease(measure, 2);
  const rate = (value: number) => `${value.toFixed(1)}/s`;
  const times = (value: number) => `${value.toFixed(1)}×`;
  return [
    `| one webhook, ${subscribers} subscribers × ${eventsPerSubscriber} events, receiver answers after 50 ms, WEBHOOK_PARALLELISM=8 (two runs) | ${spread(current.map((r) => r.parallel), rate)} | WEBHOOK_PARALLELISM=1 ${spread(current.map((r) => r.strict), rate)} | ${spread(current.map((r) => r.parallel / r.strict), times)} (target ≥ 5×) |`,
    `| the same, ${previousLabel} | ${spread(previous.map((r) => r.parallel), rate)} | WEBHOOK_PARALLELISM=1 ${spread(previous.map((r) => r.strict), rate)} | ${spread(previous.map((r) => r.parallel / r.strict), times)}; this tree ${spread(current.map((r, i) => r.parallel / previous[i]!.parallel), times)} of it |`,
  ];
}
