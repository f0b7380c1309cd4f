import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import type { DeliveryWorker } from '../src/services/deliveryWorker.js';
import { migrate } from '../src/storage/migrator.js';
import { startPrivateMariadb, type PrivateMariadb } from './helpers/mariadbServer.js';

const answerMs = 100;
const events = 100;

/** A receiver that answers each request after `answerMs`, noting which event came when. */
class SlowReceiver {
  readonly arrivals: Array<{ id: number; at: number }> = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.arrivals.push({ id: (JSON.parse(Buffer.concat(chunks).toString()) as { id: number }).id, at: performance.now() });
        setTimeout(() => res.writeHead(204).end(), answerMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  since(at: number): number {
    return this.arrivals.filter((arrival) => arrival.at >= at).length;
  }

  async until(check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${this.arrivals.length} requests arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

// A round records what it sent only at its end. While the database is gone,
// whatever a round still sends cannot be recorded and goes again once the
// database is back: a crash during a long round made receivers get much of it
// twice, as the round went on sending for as long as its lease allowed.
describe('a worker whose database is gone', function () {
  this.timeout(120_000);
  let server: PrivateMariadb;
  let app: Application;
  let worker: DeliveryWorker;
  const receiver = new SlowReceiver();

  before(async () => {
    server = await startPrivateMariadb();
    const url = server.url('webhooks');
    await migrate(url);
    app = new Application(loadConfig({ DATABASE_URL: url, ALLOW_PRIVATE_TARGETS: '1', LEASE_SECONDS: '12', DELIVERY_TIMEOUT_MS: '2000', POLL_INTERVAL_MS: '100' }), silentLogger);
    const hook = await receiver.start();
    await app.pool.query("insert into accounts (username, password_hash, email, language, created_at) values ('shop', 'unused', 'shop@example.com', 'en', now())");
    await app.pool.query("insert into webhooks (account_id, app, event, url, secret, created_at) select id, 'crash', 'optin_finalized', ?, 'whsec_c2VjcmV0', now() from accounts", [hook]);
    // Without a subscriber key: one lane, one request at a time, a round of all of them that takes 10 s.
    await app.intake.accept(Array.from({ length: events }, (_, id) => ({ account: 'shop', event: 'optin_finalized', payload: { id } })));
  });

  after(async () => {
    await worker?.stop().catch(() => undefined);
    await app?.close().catch(() => undefined);
    receiver.close();
    await server?.stop();
  });

  it('starts no more attempts once a statement found it gone, and sends every event once it is back', async () => {
    worker = app.createWorker();
    worker.start();
    await receiver.until(() => receiver.arrivals.length >= 10, 20_000);
    server.kill();
    const killedAt = performance.now();
    // The round could go on for as long as its lease allows (8 s more at 10 requests a second).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(receiver.since(killedAt), 'requests after the database was gone').to.be.at.most(5);

    await server.start();
    await receiver.until(() => new Set(receiver.arrivals.map((arrival) => arrival.id)).size === events, 60_000);
  });
});
