// Throughput: 20,000 deliveries (100 accounts with one webhook each, 200
//   events per account) to a local receiver, beside a plain keep-alive POST
//   loop with undici's Pool to the same receiver at the same concurrency.
//   Target: at least 30% of the plain loop.
import { Agent as HttpAgent } from 'node:http';
import axios from 'axios';
import { Pool } from 'undici';
import type { Application } from '../src/main.js';
import { startChild } from './child.js';
import { besidePreviousRelease, spread, type Subject } from './subjects.js';

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

/** Deliveries per second of one subject's worker: a warm-up pass, then all of `eventsPerAccount`. */
async function workerRate({ Application, loadConfig, silentLogger, createDatabase }: Subject, receiverOrigin: string): Promise<number> {
  const database = await createDatabase();
  const app = new Application(
    loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', WORKER_CONCURRENCY: String(concurrency), LOG_LEVEL: 'warn' }),
    silentLogger,
  );
  try {
    await seedWebhooks(app, receiverOrigin);
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
    return total / workerSeconds;
  } finally {
    await app.close();
    await database.drop();
  }
}

/** The same number of POSTs of the same body, nothing else; warmed up like the worker. */
async function plainLoopRate(origin: string, total: number): Promise<number> {
  const pool = new Pool(origin, { connections: concurrency });
  const plainLoop = async (count: number) => {
    let sent = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < count) {
          sent += 1;
          const response = await pool.request({ method: 'POST', path: '/hook/1', body: payload, headers: { 'content-type': 'application/json' } });
          await response.body.dump();
        }
      }),
    );
  };
  await plainLoop(accounts * 20);
  const started = performance.now();
  await plainLoop(total);
  const rate = total / ((performance.now() - started) / 1000);
  await pool.close();
  return rate;
}

/** axios, the design's first choice for the sender, in the same loop: why the sender is undici. */
async function axiosRate(origin: string, total: number): Promise<number> {
  const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent += 1;
        await axios.post(`${origin}/hook/1`, payload, { httpAgent: keepAlive, headers: { 'content-type': 'application/json' }, maxRedirects: 0 });
      }
    }),
  );
  keepAlive.destroy();
  return total / ((performance.now() - started) / 1000);
}

async function throughput(): Promise<string[]> {
  const receiver = await startChild(['receiver']);
  try {
    const total = accounts * eventsPerAccount;
    // Two runs of each release, alternating, each beside the plain loop measured right after it.
    const measure = async (subject: Subject) => {
      const rate = await workerRate(subject, receiver.origin);
      return { rate, share: rate / (await plainLoopRate(receiver.origin, total)) };
    };
    const { current, previous, previousLabel } = await besidePreviousRelease(measure, 2);
    const baseline = await plainLoopRate(receiver.origin, total);
    const axiosTotal = 5000;
    const viaAxios = await axiosRate(receiver.origin, axiosTotal);
    const rate = (value: number) => `${value.toFixed(0)}/s`;
    const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
    const times = (value: number) => `${value.toFixed(2)}×`;
    return [
      `| delivery throughput: ${total} deliveries, ${accounts} webhooks, worker concurrency ${concurrency} (two runs) | ${spread(current.map((r) => r.rate), rate)}, ${spread(current.map((r) => r.share), percent)} of the plain undici Pool POST loop | ${previousLabel} ${spread(previous.map((r) => r.rate), rate)}, ${spread(previous.map((r) => r.share), percent)} | ${spread(current.map((r, i) => r.share / previous[i]!.share), times)} of the previous release (target ≥ 30% of the loop) |`,
      `| the same POST loop with axios (keep-alive agent), ${axiosTotal} requests | ${viaAxios.toFixed(0)}/s | plain undici Pool POST loop ${baseline.toFixed(0)}/s | ${percent(viaAxios / baseline)} |`,
    ];
  } finally {
    receiver.child.kill();
  }
}

function expect(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`benchmark went wrong: ${actual} instead of ${expected}`);
}

export async function benchDelivery(): Promise<string[]> {
  return throughput();
}
