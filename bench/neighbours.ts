// Noisy neighbours: a healthy webhook's intake-to-receipt latency while another
// account has 100 hostile endpoints (25 each trickling their answer, streaming
// 102 Processing, never answering, answering after 1.5 s) and a steady event
// stream of its own, against the same healthy webhook with nobody else about.
// serve and worker run together in one process, as npm start runs them.
// Targets: p99 under 1 s, and under 2× the quiet figure.
import { startChild } from './child.js';
import { ArrivalRecorder, emitSteadily, latencies, ms, type Intake, type Latencies } from './latencyProbe.js';
import { besidePreviousRelease, type Subject } from './subjects.js';

const events = 200;
const perSecond = 20;
const hostileKinds = ['trickle', 'flood102', 'blackHole', 'slowAnswer'];

async function measure({ Application, loadConfig, silentLogger, createAccount, createDatabase, dir }: Subject): Promise<{ quiet: Latencies; noisy: Latencies; noise: string }> {
  const database = await createDatabase();
  const receiver = await new ArrivalRecorder().start();
  const hostile = await startChild(['hostile']);
  const setup = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1' }), silentLogger);
  const service = await startChild(['start', database.url], { ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'bench-token', BENCH_RELEASE_DIR: dir });
  const intake: Intake = { origin: service.origin, token: 'bench-token' };
  try {
    const quietId = await createAccount(setup.pool, setup.clock, { username: 'quiet', password: 'quiet-password', email: 'q@example.com', language: 'en' });
    const noisyId = await createAccount(setup.pool, setup.clock, { username: 'noisy', password: 'noisy-password', email: 'n@example.com', language: 'en' });
    await setup.webhooks.create(quietId, { app: 'crm', event: 'optin_finalized', url: receiver.url() });

    const quietSent = await emitSteadily(intake, 'quiet', events, perSecond, 'quiet');
    await receiver.waitFor(events, 10_000);
    const quiet = latencies(quietSent, receiver.arrivals);

    for (let i = 0; i < 100; i += 1) {
      await setup.webhooks.create(noisyId, { app: `hostile${i}`, event: 'optin_finalized', url: `${hostile.origin}/${hostileKinds[i % hostileKinds.length]}/${i}` });
    }
    const [noisySent, healthySent] = await Promise.all([
      emitSteadily(intake, 'noisy', events, perSecond, 'noisy'),
      // The noisy stream starts first, so that the hostile endpoints hold their connections by now.
      new Promise<Map<string, number>>((resolve, reject) => setTimeout(() => emitSteadily(intake, 'quiet', events, perSecond, 'beside').then(resolve, reject), 1000)),
    ]);
    await receiver.waitFor(2 * events, 10_000);
    const noisy = latencies(healthySent, receiver.arrivals);
    // The noise was real: the hostile endpoints were sent to, and failed or dawdled.
    const [attempts] = await setup.pool.query<any[]>(
      `select count(*) as n, sum(a.failure_class is not null) as failed from attempts a join webhooks w on w.id = a.webhook_id where w.account_id = ?`,
      [noisyId],
    );
    const noise = `${noisySent.size} events to 100 hostile endpoints, ${attempts[0].n} attempts recorded so far, ${Number(attempts[0].failed)} failed`;
    return { quiet, noisy, noise };
  } finally {
    service.child.kill();
    hostile.child.kill();
    receiver.close();
    await setup.close();
    await database.drop();
  }
}

export async function benchNeighbours(): Promise<string[]> {
  const { current, previous, previousLabel } = await besidePreviousRelease(measure);
  return [current[0]!, previous[0]!].flatMap(({ quiet, noisy, noise }, i) => {
    const who = i === 0 ? '' : ` (${previousLabel})`;
    return [
      `| healthy webhook beside 100 hostile endpoints of another account, ${events} events at ${perSecond}/s${who}, p50 | ${ms(noisy.p50)} | the same alone ${ms(quiet.p50)} | |`,
      `| the same${who}, p99 (received ${noisy.received} of ${noisy.count}) | ${ms(noisy.p99)} | the same alone ${ms(quiet.p99)} (received ${quiet.received}) | ${(noisy.p99 / quiet.p99).toFixed(1)}× (target p99 < 1 s and < 2×) |`,
      `| (the noise${who}: ${noise}) | | | |`,
    ];
  });
}
