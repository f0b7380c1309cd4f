import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { createPool } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrator.js';
import type { FailoverPool } from '../src/storage/nodeFailover.js';
import { startGalera, type GaleraCluster } from './helpers/galera.js';
import { TestReceiver } from './helpers/receiver.js';

/** MariaDB Galera Cluster: three real nodes on this machine, one cluster for every test here. */
describe('on a Galera cluster', function () {
  this.timeout(180_000);
  let cluster: GaleraCluster;
  let receiver: TestReceiver;
  let databases = 0;
  const database = () => `webhooks_galera_${process.pid}_${(databases += 1)}`;

  before(async () => {
    cluster = await startGalera();
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver?.stop();
    await cluster?.stop();
  });

  async function serve(url: string, env: Record<string, string> = {}): Promise<{ app: Application; origin: string; server: Server }> {
    const app = new Application(loadConfig({ DATABASE_URL: url, ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'galera', POLL_INTERVAL_MS: '50', LEASE_SECONDS: '6', DELIVERY_TIMEOUT_MS: '2000', ...env }), silentLogger);
    const server = createServer(app.httpApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { app, server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  /**
   * The platform's client: each event with its own id, sent until accepted as
   * long as the answer says to retry (503 with Retry-After); it keeps every
   * refusal and the longest time one call took.
   */
  function platformClient(origin: string) {
    const client = { refusals: [] as number[], accepted: new Set<number>(), longestCallMs: 0, missingRetryAfter: [] as number[], sent: 0 };
    const send = async (n: number) => {
      for (let tries = 0; tries < 120; tries += 1) {
        const started = Date.now();
        const response = await fetch(`${origin}/internal/events`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer galera' },
          body: JSON.stringify({ account: 'shop', event: 'optin_finalized', id: `platform-${n}`, subscriber: `s${n % 7}`, payload: { n } }),
        }).catch(() => undefined);
        client.longestCallMs = Math.max(client.longestCallMs, Date.now() - started);
        if (response?.status === 202) return void client.accepted.add(n);
        client.refusals.push(response?.status ?? 0);
        if (response && response.headers.get('retry-after') !== '5') client.missingRetryAfter.push(response.status);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    return { client, send };
  }

  /** Waits until every accepted event reached every webhook (paths /galera/w0…), then checks none came under two webhook-ids. */
  async function expectAllDelivered(accepted: Set<number>, webhooks: number, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    const arrived = () => new Set(receiver.receipts.map((r) => `${r.path} ${JSON.parse(r.body).n}`));
    while (arrived().size < webhooks * accepted.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(arrived().size, 'every accepted event reached every webhook').to.equal(webhooks * accepted.size);
    const idsPerEvent = new Map<string, Set<string>>();
    for (const r of receiver.receipts) {
      const key = `${r.path} ${JSON.parse(r.body).n}`;
      idsPerEvent.set(key, (idsPerEvent.get(key) ?? new Set()).add(String(r.headers['webhook-id'])));
    }
    expect([...idsPerEvent.values()].filter((ids) => ids.size > 1), 'no event under two webhook-ids').to.deep.equal([]);
  }

  /** A serve process and a second one with their workers on lists with different first nodes, and three webhooks. */
  async function deliveringSetup(firstLists: [number[], number[]]) {
    const name = database();
    await migrate(cluster.url(name));
    const api = await serve(cluster.url(name, firstLists[0]));
    const other = await serve(cluster.url(name, firstLists[1]));
    const workers = [api.app.createWorker(), other.app.createWorker()];
    const accountId = await createAccount(api.app.pool, api.app.clock, { username: 'shop', password: 'galera-password', email: 'shop@example.com', language: 'en' });
    for (let w = 0; w < 3; w += 1) await api.app.webhooks.create(accountId, { app: `w${w}`, event: 'optin_finalized', url: receiver.url(`/galera/w${w}`) });
    receiver.receipts.length = 0;
    workers.forEach((worker) => worker.start());
    return {
      api,
      async stop() {
        await Promise.all(workers.map((worker) => worker.stop()));
        for (const s of [api, other]) {
          s.server.close();
          await s.app.close();
        }
      },
    };
  }

  /** Sends new events four at a time for `seconds`, each until it is accepted. */
  async function streamFor(platform: ReturnType<typeof platformClient>, seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      const n = platform.client.sent;
      platform.client.sent += 4;
      await Promise.all([n, n + 1, n + 2, n + 3].map(platform.send));
    }
  }

  it('runs two migrators started at once against different nodes one after the other: every migration applied once', async () => {
    const name = database();
    const [first, second] = await Promise.all([migrate(cluster.url(name, [0])), migrate(cluster.url(name, [1]))]);
    expect([first.length, second.length].sort((a, b) => a - b)[0], 'one found nothing left to do').to.equal(0);
    const pool = createPool(cluster.url(name, [2]));
    try {
      const [rows] = await pool.query<any[]>('select version, count(*) as n from schema_migrations group by version having n > 1');
      expect(rows).to.deep.equal([]);
      const [all] = await pool.query<any[]>('select count(*) as n from schema_migrations');
      expect(Number(all[0].n)).to.equal(first.length + second.length);
    } finally {
      await pool.end();
    }
  });

  it('takes an event id once, also when two processes on different nodes get it at the same moment', async () => {
    const name = database();
    await migrate(cluster.url(name));
    const a = await serve(cluster.url(name, [0, 1, 2]));
    const b = await serve(cluster.url(name, [1, 0, 2]));
    try {
      await createAccount(a.app.pool, a.app.clock, { username: 'shop', password: 'galera-password', email: 'shop@example.com', language: 'en' });
      const event = { account: 'shop', event: 'optin_finalized', id: 'platform-1', payload: { n: 1 } };
      const post = (origin: string) => fetch(`${origin}/internal/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer galera' }, body: JSON.stringify(event) });
      const answers = await Promise.all([post(a.origin), post(b.origin), post(a.origin), post(b.origin)]);
      expect(answers.map((r) => r.status)).to.deep.equal([202, 202, 202, 202]);
      const [rows] = await a.app.pool.query<any[]>("select count(*) as n from events where external_id = 'platform-1'");
      expect(Number(rows[0].n)).to.equal(1);
    } finally {
      for (const s of [a, b]) {
        s.server.close();
        await s.app.close();
      }
    }
  });

  it('leaves a node that lost the cluster (it answers 1047) for a usable one, and comes back to it once it has rejoined', async () => {
    const name = database();
    await migrate(cluster.url(name));
    const pool = createPool(cluster.url(name, [0, 1, 2]));
    const failover = pool as unknown as FailoverPool;
    try {
      await pool.query('select count(*) from schema_migrations');
      expect(failover.node?.port).to.equal(cluster.ports[0]);
      await cluster.isolate(0, true);
      const error = await pool.query('select count(*) from schema_migrations').then(() => undefined, (e: { errno?: number; code?: string }) => e);
      // The watcher may have left the node before this statement (then it succeeds elsewhere); if not, the node refuses it.
      expect(error === undefined || error.errno === 1047 || typeof error.code === 'string', 'the isolated node refuses, or was left already').to.equal(true);
      await pool.query('select count(*) from schema_migrations');
      expect(failover.node?.port).to.equal(cluster.ports[1]);
      await cluster.isolate(0, false);
      const deadline = Date.now() + 20_000;
      while (failover.node?.port !== cluster.ports[0] && Date.now() < deadline) {
        await pool.query('select 1');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(failover.node?.port, 'back on the first node of its list').to.equal(cluster.ports[0]);
    } finally {
      await pool.end();
    }
  });

  it('never has a delivery in flight twice when two workers on different nodes compete for the same webhooks, and loses nothing', async () => {
    const name = database();
    await migrate(cluster.url(name));
    // Room for two webhooks per worker: no worker can take them all, so they contend for every claim.
    const small = { WORKER_CONCURRENCY: '2', ACCOUNT_CONCURRENCY: '2' };
    const a = await serve(cluster.url(name, [0, 1, 2]), small);
    const b = await serve(cluster.url(name, [1, 2, 0]), small);
    const workers = [a.app.createWorker(), b.app.createWorker(), a.app.createWorker(), b.app.createWorker()];
    try {
      const accountId = await createAccount(a.app.pool, a.app.clock, { username: 'shop', password: 'galera-password', email: 'shop@example.com', language: 'en' });
      for (let w = 0; w < 6; w += 1) await a.app.webhooks.create(accountId, { app: `w${w}`, event: 'optin_finalized', url: receiver.url(`/contended/w${w}`) });
      const inFlight = new Set<string>();
      const twice: string[] = [];
      receiver.receipts.length = 0;
      receiver.reply = (receipt) => {
        const id = String(receipt.headers['webhook-id']);
        if (inFlight.has(id)) twice.push(id);
        inFlight.add(id);
        setTimeout(() => inFlight.delete(id), 25);
        return { status: 200, delayMs: 25 };
      };
      const events = 120;
      for (let n = 0; n < events; n += 20) {
        await a.app.intake.accept(Array.from({ length: 20 }, (_, i) => ({ account: 'shop', event: 'optin_finalized', subscriber: `s${(n + i) % 9}`, payload: { n: n + i } })));
      }
      workers.forEach((worker) => worker.start());
      const deadline = Date.now() + 60_000;
      while (new Set(receiver.receipts.map((r) => `${r.path} ${JSON.parse(r.body).n}`)).size < 6 * events && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(new Set(receiver.receipts.map((r) => `${r.path} ${JSON.parse(r.body).n}`)).size, 'every event at every webhook').to.equal(6 * events);
      expect(twice, 'in flight twice').to.deep.equal([]);
      expect(receiver.receipts.length, 'nothing sent twice').to.equal(6 * events);
      const [used] = await a.app.pool.query<any[]>('select count(distinct worker) as n from attempts');
      expect(Number(used[0].n), 'both sides took part').to.be.at.least(2);
    } finally {
      receiver.reply = () => ({ status: 200 });
      await Promise.all(workers.map((worker) => worker.stop()));
      for (const s of [a, b]) {
        s.server.close();
        await s.app.close();
      }
    }
  });

  it('loses no accepted event when the writer node dies mid-stream: serve and two workers on different nodes, refusals only 503 with Retry-After', async () => {
    const setup = await deliveringSetup([[0, 1, 2], [1, 0, 2]]);
    const platform = platformClient(setup.api.origin);
    try {
      const sending = (async () => {
        for (let n = 0; n < 240; n += 4) await Promise.all([n, n + 1, n + 2, n + 3].map(platform.send));
      })();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      cluster.kill(0);
      await sending;
      expect(platform.client.accepted.size, 'every event accepted in the end').to.equal(240);
      expect([...new Set(platform.client.refusals)].filter((status) => status !== 503), 'refusals other than 503').to.deep.equal([]);
      expect(platform.client.missingRetryAfter, 'refusals without Retry-After: 5').to.deep.equal([]);
      await expectAllDelivered(platform.client.accepted, 3, 60_000);
    } finally {
      await setup.stop();
      await cluster.start(0);
    }
  });

  it('leaves a node that turns donor (desynced, its writes held by a read lock) within seconds and comes back once it is synced: no intake call waits 10 s, nothing lost or doubled', async () => {
    const setup = await deliveringSetup([[1, 0, 2], [2, 1, 0]]);
    const platform = platformClient(setup.api.origin);
    const failover = setup.api.app.pool as unknown as FailoverPool;
    const donor = await cluster.connect(1);
    try {
      const sending = streamFor(platform, 16);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // What rsync's donor does for the length of the transfer.
      await donor.query('set global wsrep_desync = ON');
      await donor.query('flush tables with read lock');
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      expect(failover.node?.port, 'the donor was left').not.to.equal(cluster.ports[1]);
      await donor.query('unlock tables');
      await donor.query('set global wsrep_desync = OFF');
      await sending;
      expect(platform.client.accepted.size, 'every event accepted in the end').to.equal(platform.client.sent);
      expect(platform.client.longestCallMs, 'the longest intake call (ms)').to.be.below(10_000);
      expect([...new Set(platform.client.refusals)].filter((status) => status !== 503), 'refusals other than 503').to.deep.equal([]);
      expect(platform.client.missingRetryAfter, 'refusals without Retry-After: 5').to.deep.equal([]);
      await expectAllDelivered(platform.client.accepted, 3, 30_000);
      const deadline = Date.now() + 20_000;
      while (failover.node?.port !== cluster.ports[1] && Date.now() < deadline) {
        await setup.api.app.pool.query('select 1');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(failover.node?.port, 'back on the first node of its list once it is synced').to.equal(cluster.ports[1]);
    } finally {
      await donor.query('unlock tables').catch(() => undefined);
      await donor.query('set global wsrep_desync = OFF').catch(() => undefined);
      await donor.end();
      await setup.stop();
    }
  });

  /** A node killed and started again from scratch: a donor (node 1 or 2, each some process's node) sends it everything while events come in. */
  async function killedNodeReturns(): Promise<void> {
    const setup = await deliveringSetup([[1, 0, 2], [2, 1, 0]]);
    const platform = platformClient(setup.api.origin);
    try {
      const sending = streamFor(platform, 6);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      cluster.kill(0);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const restarted = cluster.start(0, { fullTransfer: true });
      await sending;
      await restarted;
      const backAt = Date.now();
      await streamFor(platform, 2);
      expect(platform.client.accepted.size, 'every event accepted in the end').to.equal(platform.client.sent);
      expect(platform.client.longestCallMs, 'the longest intake call (ms)').to.be.below(10_000);
      expect([...new Set(platform.client.refusals)].filter((status) => status !== 503), 'refusals other than 503').to.deep.equal([]);
      expect(platform.client.missingRetryAfter, 'refusals without Retry-After: 5').to.deep.equal([]);
      await expectAllDelivered(platform.client.accepted, 3, 30_000 - (Date.now() - backAt));
    } finally {
      await setup.stop();
    }
  }

  it('keeps intake answering and delivers within 30 s when a killed node comes back by a full state transfer (rsync) from a node in use', killedNodeReturns);

  it('does the same when the state transfer is mariabackup', async () => {
    const rsyncCluster = cluster;
    cluster = await startGalera({ stateTransfer: 'mariabackup' });
    try {
      await killedNodeReturns();
    } finally {
      await cluster.stop();
      cluster = rsyncCluster;
    }
  });
});
