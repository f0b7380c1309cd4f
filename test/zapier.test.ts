import { expect } from 'chai';
import { samplePayloads } from '../src/domain/event.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

/** Zapier's REST Hooks: what a Zapier trigger calls to subscribe, unsubscribe, test the connection and get samples. */
describe('Zapier REST Hooks', () => {
  let service: RunningService;
  let receiver: TestReceiver;
  let account: TestAccount;
  let other: TestAccount;
  const clock = new ManualClock('2026-07-01T08:00:00Z');

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', LOGIN_FAILURE_LIMIT: '2', MAX_WEBHOOKS_PER_ACCOUNT: '3' }, { clock });
    receiver = await new TestReceiver().start();
    account = await makeAccount(service);
    other = await makeAccount(service);
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  async function zapier(method: string, path: string, who: { username: string; password: string } | undefined, body?: unknown) {
    const headers: Record<string, string> = { 'x-forwarded-for': '198.51.100.77' };
    if (who) headers.authorization = `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${service.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  }

  it('tests the connection with Basic auth, and asks for credentials with 401 otherwise', async () => {
    expect(await zapier('GET', '/zapier/me', account)).to.deep.include({ status: 200, json: { username: account.username } });
    const none = await zapier('GET', '/zapier/me', undefined);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.equal('Basic realm="newsletter-webhooks", charset="UTF-8"');
    expect(none.json).to.deep.equal({ error: 1, message: 'authentication failed' });
    expect((await zapier('GET', '/zapier/me', { username: account.username, password: 'wrong' })).status).to.equal(401);
  });

  it('subscribes a hook as a webhook with app zapier, refuses bad events and targets, and delivers to it', async () => {
    const created = await zapier('POST', '/zapier/hooks', account, { hookUrl: receiver.url('/zap'), event: 'optin_finalized' });
    expect(created.status).to.equal(201);
    const [webhook] = await service.app.webhooks.list(account.id, { app: 'zapier' });
    expect(created.json).to.deep.equal({ id: webhook!.id });
    expect(await zapier('POST', '/zapier/hooks', account, { hookUrl: receiver.url('/zap'), event: 'subscribed' })).to.deep.include({ status: 400 });
    expect((await zapier('POST', '/zapier/hooks', account, { hookUrl: 'not a url', event: 'optin_finalized' })).json).to.deep.include({ error: 3 });
    const refused = await zapier('POST', '/zapier/hooks', account, { hookUrl: 'ftp://files.example.com/hook', event: 'optin_finalized' });
    expect(refused).to.deep.include({ status: 400 });
    expect(refused.json.error).to.equal(5);
    await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { via: 'zapier' } }]);
    await service.app.createWorker().runOnce();
    expect(receiver.receipts.map((r) => r.body)).to.deep.equal(['{"via":"zapier"}']);
  });

  it("unsubscribes with 204, and answers 404 for an unknown hook or another account's", async () => {
    const mine = (await zapier('POST', '/zapier/hooks', account, { hookUrl: receiver.url('/mine'), event: 'optout_finalized' })).json.id;
    expect((await zapier('DELETE', `/zapier/hooks/${mine}`, other)).status).to.equal(404);
    expect((await zapier('DELETE', `/zapier/hooks/${mine}`, account)).status).to.equal(204);
    expect((await zapier('DELETE', `/zapier/hooks/${mine}`, account)).status).to.equal(404);
    expect((await zapier('DELETE', '/zapier/hooks/not-a-number', account)).status).to.equal(404);
  });

  it('gives up to three recent payloads as samples, newest first, and the documented sample before any event', async () => {
    expect((await zapier('GET', '/zapier/samples/profilemanager_finalized', account)).json).to.deep.equal([samplePayloads.profilemanager_finalized]);
    for (let n = 1; n <= 4; n += 1) await service.app.intake.accept([{ account: account.username, event: 'profilemanager_finalized', payload: { n } }]);
    await service.app.intake.accept([{ account: other.username, event: 'profilemanager_finalized', payload: { n: 'other account' } }]);
    expect((await zapier('GET', '/zapier/samples/profilemanager_finalized', account)).json).to.deep.equal([{ n: 4 }, { n: 3 }, { n: 2 }]);
    expect((await zapier('GET', '/zapier/samples/nonsense', account)).status).to.equal(400);
  });

  it('deletes a Zapier hook whose receiver answers 410 Gone, without an e-mail; other webhooks are deactivated as before', async () => {
    const zap = (await zapier('POST', '/zapier/hooks', other, { hookUrl: receiver.url('/unsubscribed'), event: 'optout_finalized' })).json.id;
    const plain = await service.app.webhooks.create(other.id, { app: 'plain', event: 'optout_finalized', url: receiver.url('/plain') });
    receiver.reply = () => ({ status: 410 });
    await service.app.intake.accept([{ account: other.username, event: 'optout_finalized', payload: { n: 1 } }]);
    await service.app.createWorker().runOnce();
    const [rows] = await service.app.pool.query<any[]>('select id, active from webhooks where id in (?, ?)', [zap, plain.id]);
    expect(rows).to.deep.equal([{ id: plain.id, active: 0 }]);
    const [notifications] = await service.app.pool.query<any[]>('select webhook_id from notifications where account_id = ?', [other.id]);
    expect(notifications.map((n) => n.webhook_id)).to.deep.equal([plain.id]);
  });

  it("applies the webservice's login throttling", async () => {
    const throttled = await makeAccount(service);
    for (let i = 0; i < 2; i += 1) expect((await zapier('GET', '/zapier/me', { username: throttled.username, password: `wrong-${i}` })).status).to.equal(401);
    const locked = await zapier('GET', '/zapier/me', throttled);
    expect(locked.status).to.equal(429);
    expect(locked.json).to.deep.equal({ error: 6, message: 'too many failed logins: try again in 5 minutes at the latest' });
  });
});
