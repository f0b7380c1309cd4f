import { expect } from 'chai';
import { customerClients, jsonClient, type WebserviceClient } from './helpers/clients.js';
import { signedWith, TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

/** TestWebHook, GetWebHookDeliveries, RotateWebHookSecret through each client a customer uses. */
describe('the self-service functions', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;
  const clock = new ManualClock('2026-09-01T08:00:00Z');

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '2', WEBHOOK_TESTS_PER_MINUTE: '3' }, { clock });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  for (const [label, factory] of customerClients) {
    describe(`through ${label}`, () => {
      let client: WebserviceClient;
      let account: TestAccount;
      let other: TestAccount;
      let webhook: { id: number; secret: string };
      const auth = () => ({ username: account.username, password: account.password });

      before(async () => {
        client = await factory(service.baseUrl);
        account = await makeAccount(service);
        other = await makeAccount(service);
        const created = await client.call('CreateWebHook', { ...auth(), app: 'self-service', event: 'optin_finalized', url: receiver.url(`/${account.username}`) });
        webhook = created.result;
      });
      beforeEach(() => {
        receiver.receipts.length = 0;
        receiver.reply = () => ({ status: 200 });
      });

      it('TestWebHook sends a signed test request now and tells what came back, changing nothing', async () => {
        const passed = await client.call('TestWebHook', { ...auth(), id: webhook.id });
        expect(passed.error, passed.message).to.equal(0);
        expect(passed.result).to.include({ succeeded: true, statusCode: 200 });
        expect(passed.result.durationMs).to.be.a('number');
        const [receipt] = receiver.receipts;
        expect(receipt!.headers['x-webhook-event']).to.equal('webhook_test');
        expect(JSON.parse(receipt!.body)).to.deep.equal({ event: 'webhook_test', webhookId: webhook.id, sentAt: clock.now().toISOString() });
        expect(signedWith(receipt!, webhook.secret)).to.equal(true);

        receiver.reply = () => ({ status: 500, body: 'the CRM is down' });
        const failed = await client.call('TestWebHook', { ...auth(), id: webhook.id });
        expect(failed.error).to.equal(0);
        expect(failed.result).to.deep.include({ succeeded: false, statusCode: 500, failureClass: 'http_status', error: 'HTTP 500: the CRM is down' });
        const [listed] = (await client.call('GetWebHooks', { ...auth(), app: 'self-service' })).result;
        expect(listed).to.include({ active: true, failureCount: 0 });
        expect(listed).not.to.have.property('lastError');
      });

      it('TestWebHook answers 4 for another account\'s webhook and 6 past the limit per webhook and minute', async () => {
        expect((await client.call('TestWebHook', { username: other.username, password: other.password, id: webhook.id })).error).to.equal(4);
        const third = await client.call('TestWebHook', { ...auth(), id: webhook.id });
        expect(third.error).to.equal(0);
        const fourth = await client.call('TestWebHook', { ...auth(), id: webhook.id });
        expect(fourth).to.deep.equal({ error: 6, message: 'a webhook may be tested at most 3 times a minute' });
        clock.advance(61_000);
        expect((await client.call('TestWebHook', { ...auth(), id: webhook.id })).error).to.equal(0);
      });

      it('GetWebHookDeliveries lists deliveries newest first with the webhook-id sent and the last attempt', async () => {
        receiver.reply = (receipt) => (JSON.parse(receipt.body).n === 2 ? { status: 502, body: 'upstream timeout' } : { status: 204 });
        await service.app.intake.accept([1, 2].map((n) => ({ account: account.username, event: 'optin_finalized', subscriber: `s${n}`, payload: { n } })));
        await service.app.createWorker().runOnce();
        const answer = await client.call('GetWebHookDeliveries', { ...auth(), id: webhook.id });
        expect(answer.error, answer.message).to.equal(0);
        const [newest, oldest] = answer.result;
        expect(newest).to.deep.include({ event: 'optin_finalized', status: 'pending', attempts: 1, lastStatusCode: 502, lastFailureClass: 'http_status', lastError: 'HTTP 502: upstream timeout' });
        expect(oldest).to.deep.include({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
        expect(oldest).not.to.have.property('lastError');
        const sent = new Map(receiver.receipts.map((r) => [JSON.parse(r.body).n, r.headers['webhook-id']]));
        expect([newest.messageId, oldest.messageId]).to.deep.equal([sent.get(2), sent.get(1)]);
        expect(newest.occurredAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

        expect((await client.call('GetWebHookDeliveries', { ...auth(), id: webhook.id, status: 'delivered' })).result.map((d: any) => d.messageId)).to.deep.equal([oldest.messageId]);
        expect((await client.call('GetWebHookDeliveries', { ...auth(), id: webhook.id, limit: 1 })).result).to.have.length(1);
        expect((await client.call('GetWebHookDeliveries', { ...auth(), id: webhook.id, status: 'lost' })).error).to.equal(3);
        expect((await client.call('GetWebHookDeliveries', { ...auth(), id: webhook.id, limit: 501 })).error).to.equal(3);
        expect((await client.call('GetWebHookDeliveries', { username: other.username, password: other.password, id: webhook.id })).error).to.equal(4);
        // The failing delivery is retried after its backoff; the webhook is healthy again afterwards.
        receiver.reply = () => ({ status: 204 });
        clock.advance(61_000);
        await service.app.createWorker().runOnce();
      });

      it('RotateWebHookSecret signs with both secrets while the old one is kept, and with the new one only after', async () => {
        const rotated = await client.call('RotateWebHookSecret', { ...auth(), id: webhook.id, keepOldMinutes: 30 });
        expect(rotated.error, rotated.message).to.equal(0);
        const newSecret = rotated.result.secret as string;
        expect(newSecret).to.match(/^whsec_/).and.not.equal(webhook.secret);
        expect(rotated.result).to.include({ id: webhook.id, app: 'self-service' });

        await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 'during' } }]);
        await service.app.createWorker().runOnce();
        const during = receiver.receipts.at(-1)!;
        expect(String(during.headers['webhook-signature']).split(' ')).to.have.length(2);
        expect(signedWith(during, newSecret), 'new').to.equal(true);
        expect(signedWith(during, webhook.secret), 'old').to.equal(true);

        clock.advance(31 * 60_000);
        await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 'after' } }]);
        await service.app.createWorker().runOnce();
        const after = receiver.receipts.at(-1)!;
        expect(String(after.headers['webhook-signature']).split(' ')).to.have.length(1);
        expect(signedWith(after, newSecret)).to.equal(true);
        expect(signedWith(after, webhook.secret)).to.equal(false);

        const dropped = await client.call('RotateWebHookSecret', { ...auth(), id: webhook.id, keepOldMinutes: 0 });
        const test = await client.call('TestWebHook', { ...auth(), id: webhook.id });
        expect(test.result.succeeded).to.equal(true);
        const tested = receiver.receipts.at(-1)!;
        expect(String(tested.headers['webhook-signature']).split(' ')).to.have.length(1);
        expect(signedWith(tested, dropped.result.secret)).to.equal(true);
        webhook.secret = dropped.result.secret;

        expect((await client.call('RotateWebHookSecret', { ...auth(), id: webhook.id, keepOldMinutes: 20_000 })).error).to.equal(3);
        expect((await client.call('RotateWebHookSecret', { username: other.username, password: other.password, id: webhook.id })).error).to.equal(4);
      });
    });
  }

  it('JSON and SOAP take the usual parameter checks: a missing id is 2, a malformed one 3, both before the password', async () => {
    const client = jsonClient(service.baseUrl);
    for (const fn of ['TestWebHook', 'GetWebHookDeliveries', 'RotateWebHookSecret']) {
      expect((await client.call(fn, { username: 'x', password: 'y' })).error, fn).to.equal(2);
      expect((await client.call(fn, { username: 'x', password: 'y', id: 'seven' })).error, fn).to.equal(3);
    }
  });
});
