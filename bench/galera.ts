// A MariaDB Galera cluster of three local nodes (test/helpers/galera.ts):
//   - intake throughput on the cluster (one writer node), events accepted per
//     second by 8 concurrent intake calls for BENCH_SECONDS, beside the same on
//     the single MariaDB at 127.0.0.1:3306 in the same run (target ≥ 0.7);
//   - while the writer node is killed: how many intake calls were refused
//     (503 with Retry-After) and the longest a platform retrying every 250 ms
//     waited for an event to be accepted;
//   - while that node comes back by a full state transfer (its donor is the
//     node the process uses now): the longest single intake call, and how long
//     after the node is synced the events accepted meanwhile are all delivered.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { migrate } from '../src/storage/migrator.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { startGalera } from '../test/helpers/galera.js';
import { TestReceiver } from '../test/helpers/receiver.js';
import { ms } from './latencyProbe.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);

async function app(url: string): Promise<Application> {
  await migrate(url);
  const application = new Application(loadConfig({ DATABASE_URL: url, INTERNAL_TOKEN: 'bench', LOG_LEVEL: 'silent', ALLOW_PRIVATE_TARGETS: '1' }), silentLogger);
  const accountId = await createAccount(application.pool, application.clock, { username: 'bench', password: 'bench-password', email: 'b@example.com', language: 'en' });
  for (let w = 0; w < 3; w += 1) await application.webhooks.create(accountId, { app: `w${w}`, event: 'optin_finalized', url: 'http://127.0.0.1:9/in' });
  return application;
}

async function throughput(application: Application): Promise<number> {
  let accepted = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
    while (performance.now() < deadline) {
      await application.intake.accept([{ account: 'bench', event: 'optin_finalized', subscriber: `s${lane}`, payload: { n: accepted } }]);
      accepted += 1;
    }
  }));
  return accepted / seconds;
}

export async function benchGalera(): Promise<string[]> {
  const single = await createTestDatabase();
  const cluster = await startGalera();
  try {
    const alone = await app(single.url);
    const onCluster = await app(cluster.url('bench_galera'));
    const singleRate = await throughput(alone);
    const clusterRate = await throughput(onCluster);
    await alone.close();

    const server = createServer(onCluster.httpApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let refused = 0;
    let longestWait = 0;
    let sent = 0;
    const stopAt = performance.now() + 15_000;
    const client = async (lane: number) => {
      while (performance.now() < stopAt) {
        const started = performance.now();
        const n = (sent += 1);
        for (;;) {
          const response = await fetch(`${origin}/internal/events`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
            body: JSON.stringify({ account: 'bench', event: 'optin_finalized', id: `e${n}`, subscriber: `s${lane}`, payload: { n } }),
          }).catch(() => undefined);
          if (response?.status === 202) break;
          refused += 1;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        longestWait = Math.max(longestWait, performance.now() - started);
      }
    };
    const clients = Promise.all([0, 1, 2, 3].map(client));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    cluster.kill(0);
    await clients;

    // The node's return, delivered to a live receiver by a worker of the same process.
    const receiver = await new TestReceiver().start();
    const returning = await createAccount(onCluster.pool, onCluster.clock, { username: 'back', password: 'bench-password', email: 'r@example.com', language: 'en' });
    for (let w = 0; w < 3; w += 1) await onCluster.webhooks.create(returning, { app: `r${w}`, event: 'optin_finalized', url: receiver.url(`/r${w}`) });
    const worker = onCluster.createWorker();
    worker.start();
    let longestCall = 0;
    let accepted = 0;
    let streaming = true;
    const stream = Promise.all([0, 1, 2, 3].map(async (lane) => {
      for (let n = lane; streaming; n += 4) {
        for (;;) {
          const started = performance.now();
          const response = await fetch(`${origin}/internal/events`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
            body: JSON.stringify({ account: 'back', event: 'optin_finalized', id: `r${n}`, subscriber: `s${lane}`, payload: { n } }),
          }).catch(() => undefined);
          longestCall = Math.max(longestCall, performance.now() - started);
          if (response?.status === 202) break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        accepted += 1;
      }
    }));
    const transferStarted = performance.now();
    await cluster.start(0, { fullTransfer: true });
    const synced = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    streaming = false;
    await stream;
    while (receiver.receipts.length < 3 * accepted && performance.now() - synced < 120_000) await new Promise((resolve) => setTimeout(resolve, 50));
    const drained = performance.now() - synced;
    await worker.stop();
    await receiver.stop();
    server.close();
    await onCluster.close();
    return [
      `| intake on a 3-node Galera cluster (one writer node), 8 concurrent calls for ${seconds} s | ${clusterRate.toFixed(0)} events/s | single MariaDB ${singleRate.toFixed(0)} events/s | ${(clusterRate / singleRate).toFixed(2)} (target ≥ 0.7) |`,
      `| the writer node killed during 15 s of intake (4 clients retrying every 250 ms): ${sent} events, refusals (503 + Retry-After) / longest wait for acceptance | ${refused} / ${ms(longestWait)} | | |`,
      `| the node back by a full rsync state transfer (${ms(synced - transferStarted)}; its donor one of the two nodes in use), 4 clients sending: longest intake call / all ${accepted} events at 3 webhooks delivered after it is synced | ${ms(longestCall)} / ${ms(drained)} | | target < 10 s / — |`,
    ];
  } finally {
    await cluster.stop();
    await single.drop();
  }
}
