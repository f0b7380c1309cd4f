// A flaky receiver: one webhook, 20 subscribers, 20 events a second for
// BENCH_FLAKY_SECONDS (30), a receiver that refuses a fixed, seeded 2% of
// requests with 502, the default schedule. Events on time (accepted within
// 10 s of intake) and intake-to-receipt p50/p99, beside the same run with a
// receiver that never fails. serve (direct delivery) and a worker in one
// process, as npm start runs them.
import { seeded } from '../test/helpers/seeded.js';
import { ArrivalRecorder, latencies, ms, type Latencies } from './latencyProbe.js';
import { besidePreviousRelease, type Subject } from './subjects.js';

const seconds = Number(process.env.BENCH_FLAKY_SECONDS ?? 30);
const perSecond = 20;
const subscribers = 20;
const onTimeMs = 10_000;

async function run({ Application, loadConfig, silentLogger, createAccount, createDatabase }: Subject, failureRate: number): Promise<{ latency: Latencies; onTime: number; refused: number }> {
  const database = await createDatabase();
  const random = seeded(20261130);
  const receiver = await new ArrivalRecorder(0, () => random() < failureRate).start();
  const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOG_LEVEL: 'silent' }), silentLogger);
  const worker = app.createWorker();
  try {
    app.enableDirectDelivery();
    worker.start();
    const accountId = await createAccount(app.pool, app.clock, { username: 'flaky', password: 'flaky-password', email: 'flaky@example.com', language: 'en' });
    await app.webhooks.create(accountId, { app: 'crm', event: 'optin_finalized', url: receiver.url() });
    const emitted = new Map<string, number>();
    const count = seconds * perSecond;
    const started = performance.now();
    for (let i = 0; i < count; i += 1) {
      const wait = started + (i * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const n = `s${i % subscribers}-${i}`;
      emitted.set(n, performance.now());
      await app.intake.accept([{ account: 'flaky', event: 'optin_finalized', subscriber: `s${i % subscribers}`, payload: { n } }]);
    }
    await receiver.waitFor(count, 30_000);
    const latency = latencies(emitted, receiver.arrivals);
    const onTime = [...emitted].filter(([n, at]) => (receiver.arrivals.get(n) ?? Number.POSITIVE_INFINITY) - at < onTimeMs).length / count;
    return { latency, onTime, refused: receiver.refused };
  } finally {
    await worker.stop();
    await app.close();
    receiver.close();
    await database.drop();
  }
}

export async function benchFlaky(): Promise<string[]> {
  const measure = async (subject: Subject) => ({ healthy: await run(subject, 0), flaky: await run(subject, 0.02) });
  const { current, previous, previousLabel } = await besidePreviousRelease(measure);
  const what = `one webhook, ${subscribers} subscribers, ${perSecond} events/s for ${seconds} s, default schedule`;
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
  return [current[0]!, previous[0]!].flatMap(({ healthy, flaky }, i) => {
    const who = i === 0 ? '' : ` (${previousLabel})`;
    return [
      `| ${what}, receiver refuses 2% with 502 (${flaky.refused} refused)${who}: events accepted within 10 s | ${percent(flaky.onTime)} (${flaky.latency.received} of ${flaky.latency.count} in the end) | never failing ${percent(healthy.onTime)} | target ≥ 95% |`,
      `| the same${who}, intake-to-receipt p50 / p99 | ${ms(flaky.latency.p50)} / ${ms(flaky.latency.p99)} | never failing ${ms(healthy.latency.p50)} / ${ms(healthy.latency.p99)} | p50 ${(flaky.latency.p50 / healthy.latency.p50).toFixed(1)}× |`,
    ];
  });
}
