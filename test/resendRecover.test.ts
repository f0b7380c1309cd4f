import { expect } from 'chai';
import { decodeExcerpt } from '../src/transports/outbound/answerExcerpt.js';
import { customerClients, type WebserviceClient } from './helpers/clients.js';
import { signedWith, TestReceiver, type Receipt } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

const numberOf = (receipt: Receipt) => String(JSON.parse(receipt.body).n);
const header = (receipt: Receipt, name: string) => String(receipt.headers[name]);

/** ResendWebHookDelivery, RecoverWebHookDeliveries, GetWebHookDeliveryAttempts, and the sequence headers. */
describe('resend, recover, the receiver\'s answer, sequences', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;
  const clock = new ManualClock('2026-10-01T08:00:00Z');

  before(async () => {
    service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '3', RECOVER_MAX_DELIVERIES: '4', RESPONSE_EXCERPT_BYTES: '64' },
      { clock },
    );
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  async function emit(account: TestAccount, ns: string[]): Promise<void> {
    await service.app.intake.accept(ns.map((n) => ({ account: account.username, event: 'optin_finalized', subscriber: n.split('-')[0], payload: { n } })));
  }

  for (const [label, factory] of customerClients) {
    describe(`through ${label}`, () => {
      let client: WebserviceClient;
      let account: TestAccount;
      let other: TestAccount;
      let webhook: { id: number; secret: string };
      const auth = () => ({ username: account.username, password: account.password });
      const worker = () => service.app.createWorker();
      /** What this client's account received (the receiver is shared). */
      const mine = (prefix = '') => receiver.receipts.filter((r) => r.path === `/${prefix}${account.username}`);

      before(async () => {
        client = await factory(service.baseUrl);
        account = await makeAccount(service);
        other = await makeAccount(service);
        webhook = (await client.call('CreateWebHook', { ...auth(), app: 'resend', event: 'optin_finalized', url: receiver.url(`/${account.username}`) })).result;
      });
      beforeEach(() => {
        receiver.receipts.length = 0;
        receiver.reply = () => ({ status: 200 });
      });

      it('ResendWebHookDelivery sends a finished delivery again with its webhook-id and sequence, freshly signed, behind its lane\'s waiting events', async () => {
        await emit(account, ['a-1']);
        await worker().runOnce();
        const [first] = mine();
        receiver.reply = (receipt) => (numberOf(receipt) === 'a-2' ? { status: 503 } : { status: 200 });
        await emit(account, ['a-2']);
        await worker().runOnce(); // a-2 fails: its lane waits 60 s
        clock.advance(10_000);
        const resent = await client.call('ResendWebHookDelivery', { ...auth(), id: webhook.id, messageId: header(first!, 'webhook-id') });
        expect(resent.error, resent.message).to.equal(0);
        expect(resent.result).to.include({ messageId: header(first!, 'webhook-id'), status: 'pending' });
        expect(await worker().runOnce(), 'the resend waits behind a-2').to.equal(0);
        receiver.reply = () => ({ status: 200 });
        clock.advance(60_000);
        await worker().runOnce();
        expect(mine().map(numberOf)).to.deep.equal(['a-1', 'a-2', 'a-2', 'a-1']);
        const again = mine()[3]!;
        for (const name of ['webhook-id', 'webhook-sequence', 'webhook-previous-sequence']) expect(header(again, name), name).to.equal(header(first!, name));
        expect(Number(header(again, 'webhook-timestamp'))).to.equal(Number(header(first!, 'webhook-timestamp')) + 70);
        expect(signedWith(again, webhook.secret)).to.equal(true);
      });

      it('ResendWebHookDelivery answers 2, 3 and 4 as the contract says', async () => {
        await emit(account, ['b-1']);
        receiver.reply = () => ({ status: 500 });
        await worker().runOnce();
        const [pending] = mine();
        const messageId = header(pending!, 'webhook-id');
        expect((await client.call('ResendWebHookDelivery', { ...auth(), id: webhook.id })).error).to.equal(2);
        expect((await client.call('ResendWebHookDelivery', { ...auth(), id: webhook.id, messageId: 'delivery-7' })).error).to.equal(3);
        expect((await client.call('ResendWebHookDelivery', { ...auth(), id: webhook.id, messageId })).error, 'still pending').to.equal(3);
        expect((await client.call('ResendWebHookDelivery', { ...auth(), id: webhook.id, messageId: 'msg_999999999' })).error).to.equal(4);
        expect((await client.call('ResendWebHookDelivery', { username: other.username, password: other.password, id: webhook.id, messageId })).error).to.equal(4);
        receiver.reply = () => ({ status: 200 });
        clock.advance(60_000);
        await worker().runOnce();
      });

      it('GetWebHookDeliveryAttempts shows each attempt with its status, duration and the start of the answer, cut at RESPONSE_EXCERPT_BYTES', async () => {
        const long = `error: ${'é'.repeat(100)}`;
        receiver.reply = (_receipt, index) => (index === 0 ? { status: 422, body: long, headers: { 'content-type': 'text/plain; charset=utf-8' } } : { status: 200, body: 'thanks' });
        await emit(account, ['c-1']);
        await worker().runOnce();
        clock.advance(60_000);
        await worker().runOnce();
        const messageId = header(mine()[0]!, 'webhook-id');
        const answer = await client.call('GetWebHookDeliveryAttempts', { ...auth(), id: webhook.id, messageId });
        expect(answer.error, answer.message).to.equal(0);
        expect(answer.result).to.have.length(2);
        const [failed, succeeded] = answer.result;
        expect(failed).to.include({ statusCode: 422, failureClass: 'http_status' });
        // 64 bytes: "error: " (7) and 28 two-byte characters; the 29th is cut in half and dropped.
        expect(failed.response).to.equal(`error: ${'é'.repeat(28)}`);
        expect(failed.durationMs).to.be.a('number');
        expect(succeeded).to.include({ statusCode: 200, response: 'thanks' });
        expect(succeeded).not.to.have.property('failureClass');
        expect((await client.call('GetWebHookDeliveryAttempts', { username: other.username, password: other.password, id: webhook.id, messageId })).error).to.equal(4);
        expect((await client.call('GetWebHookDeliveryAttempts', { ...auth(), id: webhook.id, messageId: 'msg_1x' })).error).to.equal(3);
      });

      it('RecoverWebHookDeliveries resends exactly the failed and discarded deliveries of the window, in order per subscriber, once', async () => {
        const recovered = await service.app.webhooks.create(account.id, { app: 'recover', event: 'profilemanager_finalized', url: receiver.url(`/r-${account.username}`) });
        const emitTo = (ns: string[]) => service.app.intake.accept(ns.map((n) => ({ account: account.username, event: 'profilemanager_finalized', subscriber: n.split('-')[0], payload: { n } })));
        const windowStart = clock.now();
        await emitTo(['d-1', 'e-1', 'd-2', 'f-1']);
        await worker().runOnce();
        // d-1 and d-2 given up, e-1 discarded, f-1 delivered; then an event outside the window, given up too
        await service.app.pool.query("update deliveries d join events e on e.id = d.event_id set d.status = if(json_value(e.payload, '$.n') = 'e-1', 'discarded', 'failed') where d.webhook_id = ? and json_value(e.payload, '$.n') <> 'f-1'", [recovered.id]);
        clock.advance(3_600_000);
        const windowEnd = clock.now();
        await emitTo(['d-3']);
        await worker().runOnce();
        await service.app.pool.query("update deliveries set status = 'failed' where webhook_id = ? and status = 'delivered' and id = (select max(id) from (select id from deliveries where webhook_id = ?) x)", [recovered.id, recovered.id]);
        receiver.receipts.length = 0;

        const window = { ...auth(), id: recovered.id, since: windowStart.toISOString(), until: windowEnd.toISOString() };
        const answer = await client.call('RecoverWebHookDeliveries', window);
        expect(answer.error, answer.message).to.equal(0);
        expect(answer.result).to.deep.equal({ scheduled: 3 });
        expect((await client.call('RecoverWebHookDeliveries', window)).result, 'a second call finds them waiting').to.deep.equal({ scheduled: 0 });
        await worker().runOnce();
        expect(mine('r-').map(numberOf)).to.deep.equal(['d-1', 'e-1', 'd-2']);
        expect((await client.call('RecoverWebHookDeliveries', window)).result, 'delivered now').to.deep.equal({ scheduled: 0 });
      });

      it('RecoverWebHookDeliveries answers 2, 3, 4 and 6 as the contract says', async () => {
        const since = new Date(clock.now().getTime() - 86_400_000).toISOString();
        expect((await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id })).error).to.equal(2);
        expect((await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id, since: 'yesterday' })).error).to.equal(3);
        const tooOld = await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id, since: new Date(clock.now().getTime() - 31 * 86_400_000).toISOString() });
        expect(tooOld.error).to.equal(3);
        expect(tooOld.message).to.contain('30 days');
        expect((await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id, since, until: since })).error).to.equal(3);
        expect((await client.call('RecoverWebHookDeliveries', { username: other.username, password: other.password, id: webhook.id, since })).error).to.equal(4);
        await emit(account, ['g-1', 'g-2']);
        await worker().runOnce();
        clock.advance(1000); // until is now, and not included
        await service.app.pool.query("update deliveries set status = 'failed', finished_at = ? where webhook_id = ?", [clock.now(), webhook.id]);
        const tooMany = await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id, since });
        expect(tooMany.error).to.equal(6);
        expect(tooMany.message).to.match(/^\d+ deliveries lie in the window, more than 4 at once/);
        await service.app.pool.query('update webhooks set active = 0, deactivated_at = ? where id = ?', [clock.now(), webhook.id]);
        expect((await client.call('RecoverWebHookDeliveries', { ...auth(), id: webhook.id, since })).error, 'deactivated').to.equal(3);
        await service.app.webhooks.activate(account.id, webhook.id, false);
        await service.app.pool.query("update deliveries set status = 'delivered' where webhook_id = ?", [webhook.id]);
      });
    });
  }

  it('numbers every request per webhook and chains each subscriber\'s events, through retries, a replay and a resend', async () => {
    const account = await makeAccount(service);
    const { id } = await service.app.webhooks.create(account.id, { app: 'chain', event: 'optin_finalized', url: receiver.url('/chain') });
    receiver.receipts.length = 0;
    let x2Failed = false;
    receiver.reply = (receipt) => {
      if (numberOf(receipt) !== 'x-2' || x2Failed) return { status: 200 };
      x2Failed = true;
      return { status: 500 };
    };
    await emit(account, ['x-1', 'y-1', 'x-2', 'z-1', 'y-2', 'x-3']);
    await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 'k-1' } }, { account: account.username, event: 'optin_finalized', payload: { n: 'k-2' } }]);
    const worker = service.app.createWorker();
    await worker.runOnce();
    clock.advance(60_000);
    await worker.runOnce();
    const firstSeen = new Map<string, Receipt>();
    for (const receipt of receiver.receipts) if (!firstSeen.has(numberOf(receipt))) firstSeen.set(numberOf(receipt), receipt);
    const sequence = (n: string) => Number(header(firstSeen.get(n)!, 'webhook-sequence'));
    const previous = (n: string) => Number(header(firstSeen.get(n)!, 'webhook-previous-sequence'));
    expect(['x-1', 'y-1', 'x-2', 'z-1', 'y-2', 'x-3', 'k-1', 'k-2'].map(sequence)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(['x-1', 'y-1', 'x-2', 'z-1', 'y-2', 'x-3', 'k-1', 'k-2'].map(previous)).to.deep.equal([0, 0, 1, 0, 2, 3, 0, 7]);
    // A retry keeps its numbers.
    const x2 = receiver.receipts.filter((r) => numberOf(r) === 'x-2');
    expect(x2.length).to.be.above(1);
    expect(new Set(x2.map((r) => `${header(r, 'webhook-sequence')}/${header(r, 'webhook-previous-sequence')}`)).size).to.equal(1);

    // A replay after deactivation keeps them too.
    receiver.receipts.length = 0;
    receiver.reply = () => ({ status: 503 });
    await emit(account, ['x-4']);
    for (let step = 0; step < 3; step += 1) {
      await worker.runOnce();
      clock.advance(60_000);
    }
    receiver.reply = () => ({ status: 200 });
    await service.app.webhooks.activate(account.id, id, true);
    await worker.runOnce();
    const replayed = receiver.receipts[receiver.receipts.length - 1]!;
    expect([numberOf(replayed), header(replayed, 'webhook-sequence'), header(replayed, 'webhook-previous-sequence')]).to.deep.equal(['x-4', '9', '6']);
  });

  it('decodes any answer as text: another charset, binary bytes, a character cut at the limit', () => {
    expect(decodeExcerpt(Buffer.from('Gr\u00fc\u00dfe', 'latin1'), 'text/plain; charset=ISO-8859-1')).to.equal('Grüße');
    expect(decodeExcerpt(Buffer.from([0xe2, 0x82]), 'text/plain')).to.equal('');
    expect(decodeExcerpt(Buffer.from([0x00, 0xff, 0x41, 0x07]), 'application/octet-stream')).to.equal('\ufffd\ufffdA\ufffd');
    expect(decodeExcerpt(Buffer.from('ok'), 'text/plain; charset=no-such-charset')).to.equal('ok');
  });
});
