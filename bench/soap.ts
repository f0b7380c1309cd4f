// GetWebHooks calls per second through the real SOAP endpoint (real auth, real
// database, an account with 10 webhooks), beside a bare express route in the
// same run. Target: at least 50% of the bare route's rate.
import { createTestDatabase } from '../test/helpers/database.js';
import { createPool, type Pool } from '../src/storage/database.js';
import { systemClock } from '../src/clock.js';
import { createAccount } from '../src/services/accounts.js';
import { postLoad } from './load.js';
import { startChild } from './child.js';

/** The account the webservice benchmarks call as: `bench` / `bench-password`, with 10 webhooks. */
export async function seedBenchAccount(pool: Pool): Promise<void> {
  await createAccount(pool, systemClock, { username: 'bench', password: 'bench-password', email: 'bench@example.com', language: 'en' });
  const [rows] = await pool.query<any[]>('select id from accounts');
  const values = Array.from({ length: 10 }, (_, i) => [rows[0].id, `app${i}`, 'optin_finalized', `https://hooks.example.com/${i}`, 'whsec_x', new Date()]);
  await pool.query('insert into webhooks (account_id, app, event, url, secret, created_at) values ?', [values]);
}

export async function benchSoap(seconds: number): Promise<string[]> {
  const database = await createTestDatabase();
  const pool = createPool(database.url);
  try {
    await seedBenchAccount(pool);

    // BENCH_DATABASE_SOCKET=/run/mysqld/mysqld.sock: the service reaches MariaDB over its Unix socket.
    const socket = process.env.BENCH_DATABASE_SOCKET;
    const serviceUrl = socket ? `mysql://root@localhost/${database.name}?socket=${encodeURIComponent(socket)}` : database.url;
    const service = await startChild(['service', serviceUrl]);
    const bare = await startChild(['bare']);
    const bareDb = await startChild(['bare-db', serviceUrl]);
    const call = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>bench</username><password>bench-password</password></GetWebHooks></soap:Body></soap:Envelope>`;
    const tenWebhooks = (status: number, text: string) => status === 200 && text.includes('<error>0</error>') && text.split('<WebHook>').length === 11;
    const lines: string[] = [];
    try {
      // Warm both up (JIT, credential cache, connection pools) before measuring.
      await postLoad(service.origin, '/soap', call, 8, 2, tenWebhooks);
      await postLoad(bare.origin, '/bare', '', 8, 1, (s) => s === 200);
      for (const concurrency of [1, 32]) {
        const soapRate = await postLoad(service.origin, '/soap', call, concurrency, seconds, tenWebhooks);
        const bareRate = await postLoad(bare.origin, '/bare', call, concurrency, seconds, (s) => s === 200);
        const bareDbRate = await postLoad(bareDb.origin, '/bare', call, concurrency, seconds, (s) => s === 200);
        lines.push(`| express route doing one \`select 1\`, concurrency ${concurrency} | ${bareDbRate.perSecond.toFixed(0)}/s | bare express route ${bareRate.perSecond.toFixed(0)}/s | ${((bareDbRate.perSecond / bareRate.perSecond) * 100).toFixed(0)}% |`);
        const ratio = soapRate.perSecond / bareRate.perSecond;
        lines.push(
          `| GetWebHooks (10 webhooks) over SOAP, concurrency ${concurrency} | ${soapRate.perSecond.toFixed(0)}/s | bare express route ${bareRate.perSecond.toFixed(0)}/s | ${(ratio * 100).toFixed(0)}% (target ≥ 50%) |`,
        );
      }
    } finally {
      service.child.kill();
      bare.child.kill();
      bareDb.child.kill();
    }
    return lines;
  } finally {
    await pool.end();
    await database.drop();
  }
}
