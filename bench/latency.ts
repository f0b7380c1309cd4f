// Intake-to-receipt latency: 1,000 events through POST /internal/events at
// 100 events/s to one webhook, from the start of the intake call to the
// receipt at the receiver; beside it, in the same run, the intake call alone
// (what a caller waits for), the floor under any delivery.
//   - serve and worker as separate processes (as production runs them), with 1
//     and with 4 worker processes; targets p50 < 25 ms, p99 < 100 ms
//   - the same without direct delivery (DIRECT_DELIVERY=0): workers poll
//   - serve and worker in one process (npm start)
//   - serve + 1 worker process of this tree and of the previous releases,
//     alternating, two runs each
// And what an idle worker costs the database: statements per second (MariaDB's
// Questions counter) while one worker process runs with nothing to do.
import { freePort, waitForPort } from '../test/helpers/ports.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/database.js';
import { startCli, stopChild } from './child.js';
import { alternately, startReleaseCli, thisTree, withReleases, type Release } from './releases.js';
import { spread } from './subjects.js';
import { ArrivalRecorder, emitSteadily, latencies, ms, type Latencies } from './latencyProbe.js';

const count = 1000;
const perSecond = 100;

async function withWebhook(database: TestDatabase, receiver: ArrivalRecorder): Promise<void> {
  const setup = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1' }), silentLogger);
  try {
    const accountId = await createAccount(setup.pool, setup.clock, { username: 'latency', password: 'latency-password', email: 'l@example.com', language: 'en' });
    await setup.webhooks.create(accountId, { app: 'latency', event: 'optin_finalized', url: receiver.url() });
  } finally {
    await setup.close();
  }
}

interface Topology {
  serve: 'serve' | 'start';
  workers: number;
  env?: Record<string, string>;
}

/** Runs `serve` (or `start`) and `workers` worker processes of a release, emits, and returns the latencies. */
async function latenciesOf(topology: Topology, release: Release = thisTree): Promise<{ delivery: Latencies; intake: Latencies }> {
  const database = await createTestDatabase();
  const receiver = await new ArrivalRecorder().start();
  await withWebhook(database, receiver);
  const port = await freePort();
  const env = { DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'bench-token', PORT: String(port), ...topology.env };
  const children = [startReleaseCli(release, [topology.serve], env), ...Array.from({ length: topology.workers }, () => startReleaseCli(release, ['worker'], env))];
  try {
    await waitForPort(port);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // every worker up and polling
    const answered = new Map<string, number>();
    const sent = await emitSteadily({ origin: `http://127.0.0.1:${port}`, token: 'bench-token' }, 'latency', count, perSecond, '', answered);
    await receiver.waitFor(count, 10_000);
    return { delivery: latencies(sent, receiver.arrivals), intake: latencies(sent, answered) };
  } finally {
    await Promise.all(children.map(stopChild));
    receiver.close();
    await database.drop();
  }
}

async function idleQueriesPerSecond(): Promise<string[]> {
  const database = await createTestDatabase();
  const probe = new Application(loadConfig({ DATABASE_URL: database.url }), silentLogger);
  const questions = async () => {
    const [rows] = await probe.pool.query<any[]>("show global status like 'Questions'");
    return Number(rows[0].Value);
  };
  const seconds = 10;
  try {
    const quietBefore = await questions();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const quiet = (await questions()) - quietBefore - 1;
    const worker = startCli(['worker'], { DATABASE_URL: database.url });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000)); // past the start-up checks
      const before = await questions();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const idle = (await questions()) - before - 1;
      return [`| an idle worker process: statements per second to the database | ${(idle / seconds).toFixed(1)}/s | nothing running ${(quiet / seconds).toFixed(1)}/s | |`];
    } finally {
      await stopChild(worker);
    }
  } finally {
    await probe.close();
    await database.drop();
  }
}

async function measure(label: string, topology: Topology): Promise<string[]> {
  const { delivery, intake } = await latenciesOf(topology);
  return [
    `| ${label}: intake-to-receipt p50 | ${ms(delivery.p50)} | the intake call alone ${ms(intake.p50)} | target < 25 ms |`,
    `| ${label}: intake-to-receipt p99 (received ${delivery.received} of ${delivery.count}) | ${ms(delivery.p99)} | the intake call alone ${ms(intake.p99)} | target < 100 ms |`,
  ];
}

/** serve + 1 worker process of this tree and of the previous releases, alternating, two runs each. */
async function besideReleases(): Promise<string[]> {
  const { releases, runs } = await withReleases(async (releases) => ({ releases, runs: await alternately(releases, 2, (release) => latenciesOf({ serve: 'serve', workers: 1 }, release)) }));
  const range = (values: number[]) => spread(values, (value) => ms(value));
  return releases.map((release) => {
    const own = runs.get(release)!;
    const received = own.map((run) => run.delivery.received).reduce((a, b) => a + b, 0);
    return `| serve + 1 worker process; ${release.label}: intake-to-receipt p50 / p99 (two runs; received ${received} of ${2 * count}) | ${range(own.map((run) => run.delivery.p50))} / ${range(own.map((run) => run.delivery.p99))} | the intake call alone ${range(own.map((run) => run.intake.p50))} / ${range(own.map((run) => run.intake.p99))} | target < 25 ms / < 100 ms |`;
  });
}

export async function benchLatency(): Promise<string[]> {
  return [
    ...(await besideReleases()),
    ...(await measure('serve + 4 worker processes', { serve: 'serve', workers: 4 })),
    ...(await measure('serve + 1 worker process, DIRECT_DELIVERY=0 (workers poll every 100 ms)', { serve: 'serve', workers: 1, env: { DIRECT_DELIVERY: '0', POLL_INTERVAL_MS: '100' } })),
    ...(await measure('serve and worker in one process (npm start)', { serve: 'start', workers: 0 })),
    ...(await idleQueriesPerSecond()),
  ];
}
