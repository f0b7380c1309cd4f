// The webservice under an attacker's and a crowd's load:
//   - GetWebHooks at 32 connections for a minute with CREDENTIAL_CACHE_SECONDS=5,
//     so that the remembered credentials expire a dozen times while the
//     requests keep coming; p50/p99/max beside a bare express route at the same
//     concurrency in the same run. Target: p99 under 100 ms.
//   - the same for an account whose password the platform handed over as a
//     bcrypt hash (cost 10, as PHP's password_hash() writes it).
//   - /healthz while 20 clients at a time send one-megabyte envelopes that no
//     login protects, beside /healthz alone.
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Pool } from 'undici';
import { createPool } from '../src/storage/database.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { postLoad } from './load.js';
import { seedBenchAccount } from './soap.js';
import { startChild } from './child.js';
import { ms } from './latencyProbe.js';

const callAs = (username: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>${username}</username><password>bench-password</password></GetWebHooks></soap:Body></soap:Envelope>`;
const call = callAs('bench');

/** /healthz latencies (ms) for `seconds`, one request at a time, while `during` runs. */
async function healthz(origin: string, seconds: number, during: () => Promise<unknown> = async () => undefined): Promise<{ p99: number; max: number }> {
  const pool = new Pool(origin, { connections: 1 });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let running = true;
  const load = during().finally(() => (running = false));
  while (performance.now() < deadline && running) {
    const sent = performance.now();
    const response = await pool.request({ method: 'GET', path: '/healthz' });
    await response.body.text();
    latencies.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await load;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { p99: latencies[Math.floor(0.99 * latencies.length)] ?? Number.NaN, max: latencies[latencies.length - 1] ?? Number.NaN };
}

async function bigEnvelopes(origin: string, seconds: number): Promise<number> {
  const pool = new Pool(origin, { connections: 20 });
  const body = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>${'x'.repeat(1024 * 1024)}</username></GetWebHooks></soap:Body></soap:Envelope>`;
  const deadline = performance.now() + seconds * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (performance.now() < deadline) {
      const response = await pool.request({ method: 'POST', path: '/soap', body, headers: { 'content-type': 'text/xml' } }).catch(() => undefined);
      await response?.body.text().catch(() => undefined);
      sent += 1;
    }
  }));
  await pool.close();
  return sent;
}

export async function benchTail(): Promise<string[]> {
  const database = await createTestDatabase();
  const pool = createPool(database.url);
  try {
    await seedBenchAccount(pool);
    // The same account once more, its password as the platform's PHP hands it over.
    await pool.query(
      "insert into accounts (username, password_hash, email, language, created_at) select 'bench-bcrypt', ?, email, language, created_at from accounts where username = 'bench'",
      [(await bcryptHash('bench-password', 10)).replace(/^\$2b\$/, '$2y$')],
    );
    await pool.query("insert into webhooks (account_id, app, event, url, secret, created_at) select a.id, w.app, w.event, w.url, w.secret, w.created_at from webhooks w join accounts a on a.username = 'bench-bcrypt'");
    const service = await startChild(['service', database.url], { CREDENTIAL_CACHE_SECONDS: '5' });
    const bare = await startChild(['bare']);
    const tenWebhooks = (status: number, text: string) => status === 200 && text.includes('<error>0</error>');
    try {
      await postLoad(service.origin, '/soap', call, 8, 2, tenWebhooks);
      const seconds = Number(process.env.BENCH_TAIL_SECONDS ?? 60);
      const soap = await postLoad(service.origin, '/soap', call, 32, seconds, tenWebhooks);
      const bcrypt = await postLoad(service.origin, '/soap', callAs('bench-bcrypt'), 32, seconds, tenWebhooks);
      const baseline = await postLoad(bare.origin, '/bare', call, 32, 10, (s) => s === 200);
      const quiet = await healthz(service.origin, 5);
      let envelopes = 0;
      const flooded = await healthz(service.origin, 10, async () => (envelopes = await bigEnvelopes(service.origin, 10)));
      return [
        `| GetWebHooks at 32 connections for ${seconds} s, credentials remembered 5 s: p50 / p99 / max | ${ms(soap.p50)} / ${ms(soap.p99)} / ${ms(soap.max)} | bare express route ${ms(baseline.p50)} / ${ms(baseline.p99)} / ${ms(baseline.max)} | target p99 < 100 ms |`,
        `| the same for an account with a bcrypt hash (cost 10) from PHP's password_hash(): p50 / p99 / max | ${ms(bcrypt.p50)} / ${ms(bcrypt.p99)} / ${ms(bcrypt.max)} | the scrypt account above | target p99 < 100 ms |`,
        `| /healthz while 20 clients send 1 MB envelopes (${envelopes} sent, each refused unread past 64 KiB): p99 / max | ${ms(flooded.p99)} / ${ms(flooded.max)} | /healthz alone ${ms(quiet.p99)} / ${ms(quiet.max)} | |`,
      ];
    } finally {
      service.child.kill();
      bare.child.kill();
    }
  } finally {
    await pool.end();
    await database.drop();
  }
}
