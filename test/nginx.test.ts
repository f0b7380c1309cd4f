import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createLinkToken } from '../src/domain/linkToken.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { startNginx, type RunningNginx } from './helpers/nginx.js';
import { TestReceiver } from './helpers/receiver.js';

/** Two service instances and one worker on one database, behind the shipped nginx.conf. */
describe('behind nginx', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  const apps: Application[] = [];
  const servers: Server[] = [];
  let nginx: RunningNginx;
  let receiver: TestReceiver;
  const clients = new Map<string, Agent>();
  const username = 'behind-nginx';
  const password = 'behind-nginx-password';

  /** A client on its own loopback address, so that nginx sees a distinct client. */
  function from(address: string): Agent {
    if (!clients.has(address)) clients.set(address, new Agent({ localAddress: address, connect: { rejectUnauthorized: false } }));
    return clients.get(address)!;
  }

  async function call(path: string, options: { method?: string; body?: string; headers?: Record<string, string>; address?: string; https?: boolean } = {}) {
    const origin = options.https === false ? `http://127.0.0.1:${nginx.httpPort}` : `https://127.0.0.1:${nginx.httpsPort}`;
    const response = await request(`${origin}${path}`, {
      method: (options.method ?? 'GET') as 'GET',
      body: options.body,
      headers: options.headers,
      dispatcher: from(options.address ?? '127.0.0.1'),
    });
    const raw = Buffer.from(await response.body.arrayBuffer());
    const text = response.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
    return { status: response.statusCode, headers: response.headers, text };
  }

  const soapCall = (user: string, pass: string) =>
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>${user}</username><password>${pass}</password></GetWebHooks></soap:Body></soap:Envelope>`;

  before(async () => {
    database = await createTestDatabase();
    receiver = await new TestReceiver().start();
    const env = { DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOGIN_FAILURE_LIMIT: '1', PUBLIC_URL: 'https://webhooks.example.com' };
    for (let i = 0; i < 2; i += 1) {
      const app = new Application(loadConfig(env), silentLogger);
      const server = createServer(app.httpApp());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      apps.push(app);
      servers.push(server);
    }
    const accountId = await (await import('../src/services/accounts.js')).createAccount(apps[0]!.pool, apps[0]!.clock, { username, password, email: 'n@example.com', language: 'en' });
    await apps[0]!.webhooks.create(accountId, { app: 'proxied', event: 'optin_finalized', url: receiver.url() });
    nginx = await startNginx([(servers[0]!.address() as AddressInfo).port, (servers[1]!.address() as AddressInfo).port]);
  });
  after(async () => {
    await nginx?.stop();
    for (const agent of clients.values()) await agent.close();
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    for (const app of apps) await app.close();
    await receiver.stop();
    await database.drop();
  });

  it('answers SOAP and JSON calls and spreads them over both instances', async () => {
    for (let i = 0; i < 4; i += 1) {
      const soap = await call('/soap', { method: 'POST', body: soapCall(username, password), headers: { 'content-type': 'text/xml; charset=utf-8' } });
      expect(soap.status).to.equal(200);
      expect(soap.text).to.contain('<error>0</error><message></message><result><WebHook>');
      expect(soap.headers['strict-transport-security']).to.equal('max-age=63072000');
      expect(soap.headers['x-request-id']).to.match(/^[0-9a-f]{32}$/); // nginx's $request_id, used by the service
    }
    const json = await call('/json/getwebhooks', { method: 'POST', body: `username=${username}&password=${password}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(JSON.parse(json.text)).to.deep.include({ error: 0 });
    const zapier = await call('/zapier/me', { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } });
    expect(JSON.parse(zapier.text)).to.deep.equal({ username });
    const calls = await Promise.all(apps.map(async (app) => (await app.metrics.registry.getSingleMetricAsString('webhooks_webservice_calls_total'))));
    expect(calls.every((text) => /function="GetWebHooks",error="0"\} [1-9]/.test(text))).to.equal(true);
  });

  it('serves the WSDL and the demo page compressed, and redirects plain HTTP to HTTPS', async () => {
    const wsdl = await call('/soap?wsdl', { headers: { 'accept-encoding': 'gzip' } });
    expect(wsdl.headers['content-encoding']).to.equal('gzip');
    expect(wsdl.text).to.contain('<soap:address location="https://webhooks.example.com/soap"/>');
    const demo = await call('/webservicedemo', { headers: { 'accept-encoding': 'gzip' } });
    expect(demo.status).to.equal(200);
    expect(demo.headers['content-encoding']).to.equal('gzip');
    expect(demo.text).to.contain('Webservicedemo');
    const plain = await call('/soap?wsdl', { https: false });
    expect(plain.status).to.equal(301);
    expect(plain.headers.location).to.equal(`https://127.0.0.1/soap?wsdl`);
  });

  it('serves the reactivation page', async () => {
    const app = apps[0]!;
    await app.pool.query("update webhooks set active = 0, deactivated_at = utc_timestamp(3), deactivations = 1, last_error = 'HTTP 500' where app = 'proxied'");
    const [rows] = await app.pool.query<any[]>("select id from webhooks where app = 'proxied'");
    const token = createLinkToken(await app.tokenKey(), 'reactivate', { webhookId: rows[0].id, occasion: 1, expiresAt: new Date(Date.now() + 86_400_000) });
    const page = await call(`/webhooks/reactivate?token=${token}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Reactivate webhook');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    // Reactivated without the page's test (which would reach the receiver): confirmed "all the same".
    const form = new URLSearchParams({ token, csrf, action: 'reactivate', reactivateAnyway: '1' }).toString();
    const done = await call('/webhooks/reactivate', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(done.text).to.contain('is active again');
  });

  it('delivers through the worker behind the same database', async () => {
    const worker = apps[1]!.createWorker();
    await apps[0]!.intake.accept([{ account: username, event: 'optin_finalized', payload: { via: 'nginx setup' } }]);
    await worker.runOnce();
    expect(receiver.receipts.map((r) => r.body)).to.deep.equal(['{"via":"nginx setup"}']);
  });

  it('refuses /internal/ and /metrics from outside, and requests over the size limit', async () => {
    expect((await call('/internal/events', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).to.equal(403);
    expect((await call('/metrics')).status).to.equal(403);
    const huge = await call('/soap', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024), headers: { 'content-type': 'text/xml' } });
    expect(huge.status).to.equal(413);
    expect(huge.text).to.contain('nginx');
  });

  it('lets login throttling see the real client address, which a client cannot forge', async () => {
    // LOGIN_FAILURE_LIMIT=1: an address may fail 5 times within the window.
    const failFrom = async (address: string, user: string, headers: Record<string, string> = {}) =>
      (await call('/soap', { method: 'POST', address, body: soapCall(user, 'wrong'), headers: { 'content-type': 'text/xml', ...headers } })).text.match(/<error>(\d+)<\/error>/)![1];
    for (let i = 0; i < 5; i += 1) expect(await failFrom('127.0.0.5', `guess${i}`), `attempt ${i}`).to.equal('1');
    expect(await failFrom('127.0.0.5', 'guess-more', { 'x-forwarded-for': '10.9.9.9' })).to.equal('6');
    expect(await failFrom('127.0.0.6', 'guess-more')).to.equal('1');
  });
});
