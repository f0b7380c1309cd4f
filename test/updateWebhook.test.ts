import { expect } from 'chai';
import { customerClients, jsonClient, type WebserviceClient } from './helpers/clients.js';
import { signedWith, TestReceiver, type Receipt } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';
import { deactivatedWebhook } from './helpers/scenarios.js';

const numberOf = (receipt: Receipt) => Number(JSON.parse(receipt.body).n);

/** UpdateWebHook and custom headers (the fourth release): a webhook changes in place and loses nothing. */
describe('changing a webhook without losing anything', function () {
  this.timeout(60_000);

  describe('UpdateWebHook and headers over the webservice', () => {
    let service: RunningService;
    before(async () => {
      service = await startService();
    });
    after(() => service.stop());

    it('takes headers in a form-encoded JSON call as JSON text, and says so when they are not', async () => {
      const account = await makeAccount(service);
      const form = (fn: string, fields: Record<string, string>) =>
        fetch(`${service.baseUrl}/json/${fn}`, { method: 'POST', body: new URLSearchParams({ username: account.username, password: account.password, ...fields }) }).then((r) => r.json() as Promise<any>);
      const created = await form('createwebhook', { app: 'form', event: 'optin_finalized', url: 'https://hooks.example.com/form', headers: '[{"name":"X-Api-Key","value":"k"}]' });
      expect(created.error, created.message).to.equal(0);
      expect(created.result.headers).to.deep.equal([{ name: 'X-Api-Key' }]);
      const bad = await form('updatewebhook', { id: String(created.result.id), headers: 'X-Api-Key: k' });
      expect(bad).to.deep.include({ error: 3, message: "parameter 'headers' must be a list of {name, value}; in a form field, as JSON text" });
    });

    for (const [label, factory] of customerClients) {
      describe(`through ${label}`, () => {
        let client: WebserviceClient;
        let account: TestAccount;
        let other: TestAccount;
        const auth = () => ({ username: account.username, password: account.password });
        const stored = async (id: number) => {
          const [[row]] = await service.app.pool.query<any[]>('select app, url, max_per_second, custom_headers, secret from webhooks where id = ?', [id]);
          return row;
        };

        before(async () => {
          client = await factory(service.baseUrl);
          account = await makeAccount(service);
          other = await makeAccount(service);
        });

        it('creates with headers and shows their names only; changes name, URL, throttle and headers in place, keeping what is left out', async () => {
          const created = await client.call('CreateWebHook', {
            ...auth(), app: 'shop', event: 'optin_finalized', url: 'https://hooks.example.com/old',
            headers: [{ name: 'Authorization', value: 'Bearer s3cret' }, { name: 'X-Api-Key', value: 'k1' }],
          });
          expect(created.error, created.message).to.equal(0);
          expect(created.result.headers).to.deep.equal([{ name: 'Authorization' }, { name: 'X-Api-Key' }]);
          expect(JSON.stringify(created)).not.to.contain('s3cret');
          const { id, secret } = created.result;

          const renamed = await client.call('UpdateWebHook', { ...auth(), id, app: 'shop (new)' });
          expect(renamed.error, renamed.message).to.equal(0);
          expect(renamed.result).to.include({ id, app: 'shop (new)', url: 'https://hooks.example.com/old', secret, maxPerSecond: 0 });
          expect(renamed.result.headers).to.deep.equal([{ name: 'Authorization' }, { name: 'X-Api-Key' }]);

          // Authorization keeps its value (no value sent), X-Api-Key goes, X-Tenant comes.
          const changed = await client.call('UpdateWebHook', {
            ...auth(), id, url: 'https://hooks.example.com/new', maxPerSecond: 20, headers: [{ name: 'Authorization' }, { name: 'X-Tenant', value: 'north' }],
          });
          expect(changed.error, changed.message).to.equal(0);
          expect(changed.result).to.include({ id, app: 'shop (new)', url: 'https://hooks.example.com/new', secret, maxPerSecond: 20 });
          expect(changed.result.headers).to.deep.equal([{ name: 'Authorization' }, { name: 'X-Tenant' }]);
          expect(JSON.parse((await stored(id)).custom_headers)).to.deep.equal([{ name: 'Authorization', value: 'Bearer s3cret' }, { name: 'X-Tenant', value: 'north' }]);

          const listed = await client.call('GetWebHooks', { ...auth(), app: 'shop (new)' });
          expect(listed.result[0].headers).to.deep.equal([{ name: 'Authorization' }, { name: 'X-Tenant' }]);
          expect(JSON.stringify(listed)).not.to.contain('s3cret').and.not.to.contain('north');

          const cleared = await client.call('UpdateWebHook', { ...auth(), id, maxPerSecond: 0, headers: [] });
          expect(cleared.error, cleared.message).to.equal(0);
          expect(cleared.result.maxPerSecond).to.equal(0);
          expect(cleared.result).not.to.have.property('headers');
          expect(await stored(id)).to.include({ max_per_second: null, custom_headers: null, url: 'https://hooks.example.com/new', secret });
        });

        it('answers 4 for an unknown id and another account\'s, 5 for a private or metadata URL, 3 for bad headers, and changes nothing', async () => {
          const { id } = (await client.call('CreateWebHook', {
            ...auth(), app: 'strict', event: 'optout_finalized', url: 'https://hooks.example.com/strict', headers: [{ name: 'Authorization', value: 'Basic a' }],
          })).result;
          const before = await stored(id);
          const answers: Array<[number, Record<string, unknown>]> = [
            [4, { ...auth(), id: 999999, app: 'x' }],
            [4, { username: other.username, password: other.password, id, app: 'taken over' }],
            [5, { ...auth(), id, url: 'http://10.1.2.3/hook' }],
            [5, { ...auth(), id, url: 'http://169.254.169.254/latest/meta-data/' }],
            [5, { ...auth(), id, url: 'https://db.internal/hook' }],
            [3, { ...auth(), id, url: 'hooks.example.com/no-scheme' }],
            [3, { ...auth(), id, headers: [{ name: 'Host', value: 'evil.example' }] }],
            [3, { ...auth(), id, headers: [{ name: 'webhook-signature', value: 'v1,forged' }] }],
            [3, { ...auth(), id, headers: [{ name: 'Proxy-Authorization', value: 'x' }] }],
            [3, { ...auth(), id, headers: Array.from({ length: 11 }, (_, n) => ({ name: `X-H${n}`, value: 'v' })) }],
            [3, { ...auth(), id, headers: [{ name: 'X-Split', value: 'a\r\nX-Injected: 1' }] }],
            [3, { ...auth(), id, headers: [{ name: 'X-Long', value: 'v'.repeat(1025) }] }],
            [3, { ...auth(), id, headers: [{ name: 'X-Keep-Unknown' }] }],
            [3, { ...auth(), id, headers: [{ name: 'X-Twice', value: '1' }, { name: 'x-twice', value: '2' }] }],
          ];
          for (const [code, params] of answers) {
            const answer = await client.call('UpdateWebHook', params);
            expect(answer.error, `${JSON.stringify(params).slice(0, 120)}: ${answer.message}`).to.equal(code);
            if (code === 3 && params.headers) expect(answer.message).to.contain('headers');
          }
          const refused = await client.call('UpdateWebHook', { ...auth(), id, headers: [{ name: 'Content-Length', value: '0' }] });
          expect(refused.message).to.contain('Content-Length');
          expect(await stored(id)).to.deep.equal(before);
          const created = await client.call('CreateWebHook', {
            ...auth(), app: 'refused', event: 'optin_finalized', url: 'https://hooks.example.com/x', headers: [{ name: 'X-Value-Missing' }],
          });
          expect(created.error).to.equal(3);
        });
      });
    }
  });

  describe('deliveries after a change', () => {
    let service: RunningService;
    let oldReceiver: TestReceiver;
    let newReceiver: TestReceiver;
    let account: TestAccount;
    const clock = new ManualClock('2026-12-01T08:00:00Z');
    const auth = () => ({ username: account.username, password: account.password });
    const call = (fn: string, params: Record<string, unknown>) => jsonClient(service.baseUrl).call(fn, { ...auth(), ...params });

    before(async () => {
      service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '3' }, { clock });
      oldReceiver = await new TestReceiver().start();
      newReceiver = await new TestReceiver().start();
      account = await makeAccount(service);
    });
    after(async () => {
      await oldReceiver.stop();
      await newReceiver.stop();
      await service.stop();
    });

    async function emit(from: number, to: number): Promise<void> {
      const events = [];
      for (let n = from; n <= to; n += 1) events.push({ account: account.username, event: 'optin_finalized', subscriber: `s${n % 3}`, payload: { n } });
      await service.app.intake.accept(events);
    }

    async function drain(receiver: TestReceiver, count: number): Promise<void> {
      const worker = service.app.createWorker();
      for (let i = 0; i < 50 && receiver.receipts.length < count; i += 1) await worker.runOnce();
    }

    it('moves a failing webhook\'s waiting deliveries to a new URL: all arrive there in order, signed with the same secret, sequences without a gap; its headers too', async () => {
      const created = await call('CreateWebHook', {
        app: 'moving', event: 'optin_finalized', url: oldReceiver.url('/old'), headers: [{ name: 'Authorization', value: 'Bearer one' }],
      });
      expect(created.error, created.message).to.equal(0);
      const { id, secret } = created.result;
      await emit(1, 3);
      await drain(oldReceiver, 3);
      expect(oldReceiver.receipts.map(numberOf)).to.deep.equal([1, 2, 3]);
      expect(oldReceiver.receipts.every((r) => r.headers.authorization === 'Bearer one')).to.equal(true);

      oldReceiver.reply = () => ({ status: 503 });
      await emit(4, 12);
      await service.app.createWorker().runOnce();
      const failedAtOld = oldReceiver.receipts.length;
      expect(failedAtOld).to.be.above(3);
      const [[waiting]] = await service.app.pool.query<any[]>("select count(*) as n from deliveries where webhook_id = ? and status = 'pending'", [id]);
      expect(Number(waiting.n)).to.equal(9);

      const moved = await call('UpdateWebHook', { id, url: newReceiver.url('/new'), headers: [{ name: 'Authorization' }, { name: 'X-Tenant', value: 'north' }] });
      expect(moved.error, moved.message).to.equal(0);
      expect(moved.result).to.include({ id, secret, failureCount: 0, active: true });
      await drain(newReceiver, 9);

      expect(oldReceiver.receipts.length, 'nothing at the old URL after the change').to.equal(failedAtOld);
      expect(newReceiver.receipts.map(numberOf)).to.have.members([4, 5, 6, 7, 8, 9, 10, 11, 12]);
      for (const subscriber of [0, 1, 2]) {
        const lane = newReceiver.receipts.map(numberOf).filter((n) => n % 3 === subscriber);
        expect(lane, `subscriber s${subscriber} in event order`).to.deep.equal([...lane].sort((a, b) => a - b));
      }
      for (const receipt of newReceiver.receipts) {
        expect(signedWith(receipt, secret), 'signed with the secret from before').to.equal(true);
        expect(receipt.headers).to.include({ authorization: 'Bearer one', 'x-tenant': 'north' });
      }
      const sequences = [...oldReceiver.receipts.slice(0, 3), ...newReceiver.receipts].map((r) => Number(r.headers['webhook-sequence']));
      expect([...new Set(sequences)].sort((a, b) => a - b), 'sequences 1..12 without a gap').to.deep.equal(Array.from({ length: 12 }, (_, n) => n + 1));

      newReceiver.receipts.length = 0;
      const tested = await call('TestWebHook', { id });
      expect(tested.result.succeeded).to.equal(true);
      expect(newReceiver.receipts[0]!.headers).to.include({ authorization: 'Bearer one', 'x-tenant': 'north' });
      const [[last]] = await service.app.pool.query<any[]>("select concat('msg_', max(id)) as messageId from deliveries where webhook_id = ? and status = 'delivered'", [id]);
      newReceiver.receipts.length = 0;
      expect((await call('ResendWebHookDelivery', { id, messageId: last.messageId })).error).to.equal(0);
      await drain(newReceiver, 1);
      expect(newReceiver.receipts[0]!.headers).to.include({ authorization: 'Bearer one', 'x-tenant': 'north', 'webhook-id': last.messageId });
    });

    it('lets an attempt under way finish on the old URL, recorded once, and sends what follows to the new one', async () => {
      oldReceiver.receipts.length = 0;
      newReceiver.receipts.length = 0;
      account = await makeAccount(service);
      const { id } = (await call('CreateWebHook', { app: 'in flight', event: 'optin_finalized', url: oldReceiver.url('/slow') })).result;
      oldReceiver.reply = () => ({ status: 200, delayMs: 500 });
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber: 'a', payload: { n: 1 } }]);
      const running = service.app.createWorker().runOnce();
      while (oldReceiver.receipts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await call('UpdateWebHook', { id, url: newReceiver.url('/fast') })).error).to.equal(0);
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber: 'a', payload: { n: 2 } }]);
      await running;
      await drain(newReceiver, 1);
      expect(oldReceiver.receipts.map(numberOf), 'the attempt under way').to.deep.equal([1]);
      expect(newReceiver.receipts.map(numberOf), 'after the change').to.deep.equal([2]);
      const [rows] = await service.app.pool.query<any[]>('select status, attempts from deliveries where webhook_id = ? order by id', [id]);
      expect(rows.map((r) => [r.status, r.attempts]), 'each delivered once').to.deep.equal([['delivered', 1], ['delivered', 1]]);
    });

    it('keeps a deactivated webhook\'s buffer through a change and replays it on reactivation to the new URL', async () => {
      oldReceiver.receipts.length = 0;
      newReceiver.receipts.length = 0;
      const worker = service.app.createWorker();
      account = await makeAccount(service); // the moved webhook of the test before takes this event too
      const { id } = await deactivatedWebhook({ service, client: jsonClient(service.baseUrl), receiver: oldReceiver, worker, clock }, account, 2);
      const [deactivated] = (await call('GetWebHooks', {})).result.filter((w: { id: number }) => w.id === id);
      expect(deactivated).to.include({ active: false, bufferedEvents: 3 });

      const changed = await call('UpdateWebHook', { id, url: newReceiver.url('/up') });
      expect(changed.result).to.include({ active: false, bufferedEvents: 3, url: newReceiver.url('/up') });
      await worker.runOnce();
      expect(newReceiver.receipts, 'nothing sent while deactivated').to.have.length(0);

      const activated = await call('ActivateWebHook', { id, replayEvents: 1 });
      expect(activated.result.replayedEvents).to.equal(3);
      await drain(newReceiver, 3);
      expect(newReceiver.receipts.map(numberOf)).to.deep.equal([0, 1, 2]);
    });
  });
});
