// Throughput: 20,000 deliveries (100 accounts with one webhook each, 200
//   events per account) to a local receiver, beside a plain keep-alive POST
//   loop with undici's Pool to the same receiver at the same concurrency.
//   Target: at least 30% of the plain loop.
import { Agent as HttpAgent } from 'node:http';
import axios from 'axios';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { startChild } from './child.js';

// The platform's sign-up payload, as the contract shows it: what the worker sends, and what the baseline sends.
const payload = JSON.stringify({ id: 371, optinsetup_id: 60, subscriber_id: 6049065, fields: [{ id: 1, value: 'max.muster@example.com' }, { id: 3, value: 'Max' }], lists: [{ id: 1, value: 1 }], activate_at: '2025-11-11 09:27:29' });
const accounts = 100;
const eventsPerAccount = 200;
const concurrency = 100;

async function seedWebhooks(app: Application, receiverOrigin: string): Promise<void> {
  const now = new Date();
  const accountRows = Array.from({ length: accounts }, (_, i) => [`bench${i}`, 'unused', `bench${i}@example.com`, 'en', now]);
  await app.pool.query('insert into accounts (username, password_hash, email, language, created_at) values ?', [accountRows]);
  await app.pool.query(
    `insert into webhooks (account_id, app, event, url, secret, created_at)
     select a.id, 'bench', 'optin_finalized', concat(?, '/hook/', a.id), 'whsec_YmVuY2gtc2VjcmV0', ? from accounts a`,
    [receiverOrigin, now],
  );
}

/** `perAccount` events for every account, each with its pending delivery, all due now. */
async function seedEvents(app: Application, perAccount: number): Promise<number> {
  const now = new Date();
  const [[{ last }]] = await app.pool.query<any[]>('select coalesce(max(id), 0) as last from events');
  for (let n = 0; n < perAccount; n += 1) {
    await app.pool.query(
      `insert into events (account_id, event, subscriber, payload, payload_bytes, occurred_at, received_at)
       select a.id, 'optin_finalized', '6049065', ?, ?, ?, ? from accounts a`,
      [payload, Buffer.byteLength(payload), new Date(now.getTime() + n), now],
    );
  }
  await app.pool.query(
    `insert into deliveries (webhook_id, event_id, status, occurred_at, created_at)
     select w.id, e.id, 'pending', e.occurred_at, ? from events e join webhooks w on w.account_id = e.account_id where e.id > ?`,
    [now, last],
  );
  await app.pool.query('update webhooks set due_at = ?', [now]);
  return accounts * perAccount;
}

async function throughput(): Promise<string[]> {
  const database = await createTestDatabase();
  const receiver = await startChild(['receiver']);
  const app = new Application(
    loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', WORKER_CONCURRENCY: String(concurrency), LOG_LEVEL: 'warn' }),
    silentLogger,
  );
  try {
    await seedWebhooks(app, receiver.origin);
    const worker = app.createWorker();
    // A short pass first, so that both loops are measured warm (the plain loop runs after the worker).
    await seedEvents(app, 20);
    await worker.runOnce();
    const total = await seedEvents(app, eventsPerAccount);
    const started = performance.now();
    expect(await worker.runOnce(), total);
    const workerSeconds = (performance.now() - started) / 1000;
    const [left] = await app.pool.query<any[]>("select count(*) as n from deliveries where status <> 'delivered'");
    expect(Number(left[0].n), 0);

    // The baseline: the same number of POSTs of the same body, nothing else; warmed up like the worker.
    const pool = new Pool(receiver.origin, { connections: concurrency });
    const body = payload;
    const plainLoop = async (count: number) => {
      let sent = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (sent < count) {
            sent += 1;
            const response = await pool.request({ method: 'POST', path: '/hook/1', body, headers: { 'content-type': 'application/json' } });
            await response.body.dump();
          }
        }),
      );
    };
    await plainLoop(accounts * 20);
    const baselineStarted = performance.now();
    await plainLoop(total);
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;
    await pool.close();

    // axios, the design's first choice for the sender, in the same loop: why the sender is undici.
    const axiosTotal = 5000;
    const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
    let axiosSent = 0;
    const axiosStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (axiosSent < axiosTotal) {
          axiosSent += 1;
          await axios.post(`${receiver.origin}/hook/1`, body, { httpAgent: keepAlive, headers: { 'content-type': 'application/json' }, maxRedirects: 0 });
        }
      }),
    );
    const axiosRate = axiosTotal / ((performance.now() - axiosStarted) / 1000);
    keepAlive.destroy();

    const rate = total / workerSeconds;
    const baseline = total / baselineSeconds;
    return [
      `| delivery throughput: ${total} deliveries, ${accounts} webhooks, worker concurrency ${concurrency} | ${rate.toFixed(0)}/s | plain undici Pool POST loop ${baseline.toFixed(0)}/s | ${((rate / baseline) * 100).toFixed(0)}% (target ≥ 30%) |`,
      `| the same POST loop with axios (keep-alive agent), ${axiosTotal} requests | ${axiosRate.toFixed(0)}/s | plain undici Pool POST loop ${baseline.toFixed(0)}/s | ${((axiosRate / baseline) * 100).toFixed(0)}% |`,
    ];
  } finally {
    await app.close();
    receiver.child.kill();
    await database.drop();
  }
}

function expect(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`benchmark went wrong: ${actual} instead of ${expected}`);
}

export async function benchDelivery(): Promise<string[]> {
  return throughput();
}
