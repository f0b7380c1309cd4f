import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import type { DeliveryWorker } from '../src/services/deliveryWorker.js';
import { jsonClient, type WebserviceClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

const second = 1000;
const day = 86_400_000;

describe('delivery', () => {
  let service: RunningService;
  let receiver: TestReceiver;
  let worker: DeliveryWorker;
  let client: WebserviceClient;
  const clock = new ManualClock('2026-03-01T10:00:00Z');

  before(async () => {
    service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'internal-token-for-tests', RETRY_SCHEDULE: '30,120', DEACTIVATE_AFTER_FAILURES: '4', DELIVERY_TIMEOUT_MS: '500' },
      { clock },
    );
    worker = service.app.createWorker();
    client = jsonClient(service.baseUrl);
  });
  after(() => service.stop());
  beforeEach(async () => {
    receiver = await new TestReceiver().start();
  });
  afterEach(() => receiver.stop());

  async function webhookFor(account: TestAccount, event = 'optin_finalized', path = '/hook') {
    const answer = await client.call('CreateWebHook', { username: account.username, password: account.password, app: 'test', event, url: receiver.url(path) });
    expect(answer.error, answer.message).to.equal(0);
    return answer.result as { id: number; secret: string };
  }

  async function emit(account: TestAccount, event: string, payload: unknown, occurredAt?: string) {
    const response = await fetch(`${service.baseUrl}/internal/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer internal-token-for-tests' },
      body: JSON.stringify({ account: account.username, event, payload, occurredAt }),
    });
    const answer = (await response.json()) as any;
    expect(answer.error, answer.message).to.equal(0);
    return answer.result;
  }

  async function getWebhook(account: TestAccount, id: number) {
    const answer = await client.call('GetWebHooks', { username: account.username, password: account.password });
    return answer.result.find((w: any) => w.id === id);
  }

  it('POSTs each of the three events with signed Standard Webhooks headers and the payload unchanged', async () => {
    const account = await makeAccount(service);
    const hooks = {
      optin_finalized: await webhookFor(account, 'optin_finalized', '/optin'),
      optout_finalized: await webhookFor(account, 'optout_finalized', '/optout'),
      profilemanager_finalized: await webhookFor(account, 'profilemanager_finalized', '/profile'),
    };
    const payload = { id: 371, optinsetup_id: 60, subscriber_id: 6049065, fields: [{ id: 1, value: 'max.muster@example.com' }], activate_at: '2025-11-11 09:27:29' };
    for (const event of Object.keys(hooks)) await emit(account, event, payload);
    expect(await worker.runOnce()).to.equal(3);
    expect(receiver.receipts.map((r) => r.path).sort()).to.deep.equal(['/optin', '/optout', '/profile']);
    for (const receipt of receiver.receipts) {
      const event = receipt.headers['x-webhook-event'] as keyof typeof hooks;
      expect(receipt.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(receipt.body)).to.deep.equal(payload);
      const id = String(receipt.headers['webhook-id']);
      const timestamp = String(receipt.headers['webhook-timestamp']);
      expect(id).to.match(/^msg_\d+$/);
      expect(Number(timestamp)).to.equal(Math.floor(clock.now().getTime() / 1000));
      const key = Buffer.from(hooks[event].secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${receipt.body}`).digest('base64');
      expect(receipt.headers['webhook-signature']).to.equal(`v1,${expected}`);
    }
  });

  it('keeps event order while a webhook fails, backing off along the schedule', async () => {
    const account = await makeAccount(service);
    const hook = await webhookFor(account);
    for (let n = 1; n <= 4; n += 1) await emit(account, 'optin_finalized', { n });
    receiver.reply = (_receipt, index) => (index < 2 ? { status: 503, body: 'maintenance' } : { status: 204 });

    await worker.runOnce();
    expect(receiver.receipts).to.have.length(1);
    const waiting = await getWebhook(account, hook.id);
    expect(waiting).to.include({ active: true, failureCount: 1, lastError: 'HTTP 503: maintenance' });

    await worker.runOnce(); // still inside the 30 s backoff: nothing leaves
    expect(receiver.receipts).to.have.length(1);
    clock.advance(30 * second);
    await worker.runOnce();
    expect(receiver.receipts).to.have.length(2);
    clock.advance(119 * second);
    await worker.runOnce();
    expect(receiver.receipts).to.have.length(2);
    clock.advance(1 * second);
    await worker.runOnce();
    expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([1, 1, 1, 2, 3, 4]);
    expect(new Set(receiver.ids().slice(0, 3)).size).to.equal(1); // a retry keeps its webhook-id
    expect(await getWebhook(account, hook.id)).to.include({ active: true, failureCount: 0 });
  });

  it('deactivates at exactly the configured failure, buffers what waits, and records the notification', async () => {
    const account = await makeAccount(service);
    const hook = await webhookFor(account);
    receiver.reply = () => ({ status: 500, body: 'database down' });
    await emit(account, 'optin_finalized', { n: 1 });
    await emit(account, 'optin_finalized', { n: 2 });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await worker.runOnce();
      expect(receiver.receipts, `attempt ${attempt}`).to.have.length(attempt);
      expect(await getWebhook(account, hook.id)).to.include({ active: true, failureCount: attempt });
      clock.advance(120 * second);
    }
    await worker.runOnce();
    expect(receiver.receipts).to.have.length(4);
    const deactivated = await getWebhook(account, hook.id);
    expect(deactivated).to.include({ active: false, failureCount: 4, bufferedEvents: 2, lastError: 'HTTP 500: database down' });
    expect(deactivated.deactivatedAt).to.equal(clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const [notifications] = await service.app.pool.query<any[]>('select * from notifications where webhook_id = ?', [hook.id]);
    expect(notifications).to.have.length(1);
    expect(JSON.parse(notifications[0].details)).to.include({ reason: 'failures', failureClass: 'http_status', failureCount: 4, statusCode: 500 });
    clock.advance(day);
    await worker.runOnce();
    expect(receiver.receipts).to.have.length(4); // a deactivated webhook gets nothing
  });

  it('deactivates at once on 410 Gone', async () => {
    const account = await makeAccount(service);
    const hook = await webhookFor(account);
    receiver.reply = () => ({ status: 410 });
    await emit(account, 'optin_finalized', { n: 1 });
    await worker.runOnce();
    expect(await getWebhook(account, hook.id)).to.include({ active: false, failureCount: 1, bufferedEvents: 1 });
  });

  it('counts redirects, timeouts and closed ports as failures and does not follow redirects', async () => {
    const account = await makeAccount(service);
    const hook = await webhookFor(account);
    await emit(account, 'optin_finalized', { n: 1 });
    receiver.reply = () => ({ status: 302, headers: { location: receiver.url('/elsewhere') } });
    await worker.runOnce();
    expect(receiver.receipts.map((r) => r.path)).to.deep.equal(['/hook']);
    expect((await getWebhook(account, hook.id)).lastError).to.match(/^HTTP 302 redirect to .*\/elsewhere \(redirects are not followed\)$/);

    receiver.reply = () => 'hang';
    clock.advance(30 * second);
    await worker.runOnce();
    expect((await getWebhook(account, hook.id)).lastError).to.equal('no answer within 500 ms');

    await receiver.stop(); // the port is closed now
    clock.advance(120 * second);
    await worker.runOnce();
    expect(await getWebhook(account, hook.id)).to.include({ failureCount: 3, lastError: 'connection refused' });
    const [classes] = await service.app.pool.query<any[]>('select failure_class from attempts where webhook_id = ? order by id', [hook.id]);
    expect(classes.map((row) => row.failure_class)).to.deep.equal(['redirect', 'response_timeout', 'connection_refused']);
  });

  describe('after deactivation', () => {
    let account: TestAccount;
    let hook: { id: number };

    beforeEach(async () => {
      account = await makeAccount(service);
      hook = await webhookFor(account);
      receiver.reply = () => ({ status: 410 });
      await emit(account, 'optin_finalized', { n: 1 });
      await worker.runOnce();
      expect(await getWebhook(account, hook.id)).to.include({ active: false, bufferedEvents: 1 });
      receiver.reply = () => ({ status: 200 });
    });

    it('buffers events that happen within the buffer days and counts later ones as dropped', async () => {
      const deactivatedAt = clock.now().getTime();
      await emit(account, 'optin_finalized', { n: 2 }, new Date(deactivatedAt + 4 * day).toISOString());
      await emit(account, 'optin_finalized', { n: 3 }, new Date(deactivatedAt + 5 * day + 1000).toISOString());
      expect((await getWebhook(account, hook.id)).bufferedEvents).to.equal(2);
      const [rows] = await service.app.pool.query<any[]>('select dropped_events from webhooks where id = ?', [hook.id]);
      expect(rows[0].dropped_events).to.equal(1);
    });

    it('replays the buffered events first, in their original order, then newer ones', async () => {
      await emit(account, 'optin_finalized', { n: 2 });
      await emit(account, 'optin_finalized', { n: 3 });
      const activation = await client.call('ActivateWebHook', { username: account.username, password: account.password, id: hook.id, replayEvents: 1 });
      expect(activation.error).to.equal(0);
      expect(activation.result).to.include({ active: true, replayedEvents: 3, failureCount: 0, bufferedEvents: 0 });
      expect(activation.result).not.to.have.property('deactivatedAt');
      clock.advance(1000);
      await emit(account, 'optin_finalized', { n: 4 });
      receiver.receipts.length = 0;
      await worker.runOnce();
      expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([1, 2, 3, 4]);
    });

    it('discards the buffered events when activated without replay', async () => {
      await emit(account, 'optin_finalized', { n: 2 });
      const activation = await client.call('ActivateWebHook', { username: account.username, password: account.password, id: hook.id, replayEvents: 0 });
      expect(activation.result).to.include({ active: true, replayedEvents: 0, bufferedEvents: 0 });
      receiver.receipts.length = 0;
      await worker.runOnce();
      expect(receiver.receipts).to.have.length(0);
      await emit(account, 'optin_finalized', { n: 5 });
      await worker.runOnce();
      expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([5]);
    });

    it('purges buffered events after the retention period', async () => {
      clock.advance(31 * day);
      await service.app.createWorker().runOnce(); // a new worker runs housekeeping at once
      expect((await getWebhook(account, hook.id)).bufferedEvents).to.equal(0);
      clock.advance(-31 * day);
    });
  });

  it('stops all attempts for a deleted webhook', async () => {
    const account = await makeAccount(service);
    const hook = await webhookFor(account);
    receiver.reply = () => ({ status: 500 });
    await emit(account, 'optin_finalized', { n: 1 });
    await worker.runOnce();
    expect((await client.call('DeleteWebHookById', { username: account.username, password: account.password, id: hook.id })).error).to.equal(0);
    clock.advance(day);
    await emit(account, 'optin_finalized', { n: 2 });
    await worker.runOnce();
    expect(receiver.receipts).to.have.length(1);
    const [rows] = await service.app.pool.query<any[]>('select count(*) as n from deliveries where webhook_id = ?', [hook.id]);
    expect(rows[0].n).to.equal(0);
  });

  it('takes events from the outbox table in order and keeps rows it cannot accept', async () => {
    const account = await makeAccount(service);
    await webhookFor(account);
    await service.app.pool.query(
      `insert into event_outbox (account, event, payload, occurred_at) values
       (?, 'optin_finalized', '{"n":1}', ?), ('nobody', 'optin_finalized', '{"n":2}', null),
       (?, 'optin_finalized', '[1,2]', null), (?, 'optin_finalized', '{"n":3}', null)`,
      [account.username, new Date(clock.now().getTime() - 1000), account.username, account.username],
    );
    await worker.runOnce();
    expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([1, 3]);
    const [left] = await service.app.pool.query<any[]>('select account, refused_reason from event_outbox order by id');
    expect(left.map((row) => row.refused_reason)).to.deep.equal(["parameter 'account' names no account", "parameter 'payload' must be a JSON object"]);
  });
});
