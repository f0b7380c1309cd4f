import { expect } from 'chai';
import { customerClients, type WebserviceClient } from './helpers/clients.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

describe('the four webservice functions', function () {
  let service: RunningService;

  before(async () => {
    service = await startService({ MAX_WEBHOOKS_PER_ACCOUNT: '3' });
  });
  after(() => service.stop());

  for (const [label, factory] of customerClients) {
    describe(`through ${label}`, () => {
      let client: WebserviceClient;
      let account: TestAccount;
      let other: TestAccount;
      const auth = () => ({ username: account.username, password: account.password });

      before(async () => {
        client = await factory(service.baseUrl);
        account = await makeAccount(service);
        other = await makeAccount(service);
      });

      it('creates a webhook and answers with it', async () => {
        const answer = await client.call('CreateWebHook', {
          ...auth(), app: 'shop "Süd" $x \\ <b>', event: 'optin_finalized', url: 'https://hooks.example.com/in?a=1&b=2',
        });
        expect(answer.error, answer.message).to.equal(0);
        expect(answer.message).to.equal('');
        const webhook = answer.result;
        expect(webhook).to.include({
          app: 'shop "Süd" $x \\ <b>', event: 'optin_finalized', url: 'https://hooks.example.com/in?a=1&b=2',
          active: true, failureCount: 0, bufferedEvents: 0,
        });
        expect(webhook.id).to.be.a('number').above(0);
        expect(webhook.createdAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(webhook.secret).to.match(/^whsec_[A-Za-z0-9+/=]{32}$/);
        expect(webhook).not.to.have.property('deactivatedAt');
        expect(webhook).not.to.have.property('lastError');
      });

      it('lists webhooks in id order, a list of one included, and filters by app and event', async () => {
        const one = await client.call('GetWebHooks', auth());
        expect(one.error).to.equal(0);
        expect(one.result).to.have.length(1);
        expect(one.result[0].app).to.equal('shop "Süd" $x \\ <b>');

        await client.call('CreateWebHook', { ...auth(), app: 'crm', event: 'optout_finalized', url: 'https://crm.example.com/hook' });
        const all = await client.call('GetWebHooks', auth());
        expect(all.result.map((w: any) => w.app)).to.deep.equal(['shop "Süd" $x \\ <b>', 'crm']);
        expect(all.result[0].id).to.be.below(all.result[1].id);

        const byApp = await client.call('GetWebHooks', { ...auth(), app: 'crm' });
        expect(byApp.result.map((w: any) => w.app)).to.deep.equal(['crm']);
        const byEvent = await client.call('GetWebHooks', { ...auth(), event: 'optin_finalized' });
        expect(byEvent.result.map((w: any) => w.event)).to.deep.equal(['optin_finalized']);
        const none = await client.call('GetWebHooks', { ...auth(), event: 'profilemanager_finalized' });
        expect(none.error).to.equal(0);
        expect(none.result ?? []).to.deep.equal([]);
      });

      it('answers error 1 for a wrong password and for an unknown user alike', async () => {
        const wrong = await client.call('GetWebHooks', { username: account.username, password: 'not-the-password' });
        const unknown = await client.call('GetWebHooks', { username: 'nobody-here', password: 'whatever1' });
        expect(wrong).to.deep.equal({ error: 1, message: 'authentication failed' });
        expect(unknown).to.deep.equal(wrong);
      });

      it('answers error 2 naming a missing parameter', async () => {
        const answer = await client.call('CreateWebHook', { ...auth(), event: 'optin_finalized', url: 'https://a.example.com/' });
        expect(answer.error).to.equal(2);
        expect(answer.message).to.contain("'app'");
        const noPassword = await client.call('GetWebHooks', { username: account.username });
        expect(noPassword.error).to.equal(2);
        expect(noPassword.message).to.contain("'password'");
      });

      it('answers error 3 for an unknown event, a malformed URL and a name that is too long', async () => {
        const event = await client.call('CreateWebHook', { ...auth(), app: 'x', event: 'optin_started', url: 'https://a.example.com/' });
        expect(event.error).to.equal(3);
        expect(event.message).to.contain("'event'");
        const url = await client.call('CreateWebHook', { ...auth(), app: 'x', event: 'optin_finalized', url: 'not a url' });
        expect(url.error).to.equal(3);
        expect(url.message).to.contain("'url'");
        const long = await client.call('CreateWebHook', { ...auth(), app: 'a'.repeat(10_000), event: 'optin_finalized', url: 'https://a.example.com/' });
        expect(long.error).to.equal(3);
        expect(long.message).to.contain("'app'");
        const filter = await client.call('GetWebHooks', { ...auth(), event: 'nonsense' });
        expect(filter.error).to.equal(3);
      });

      it('answers parameter errors (2, 3) before it checks the password, in every function', async () => {
        const wrong = { username: auth().username, password: 'not-the-password' };
        const cases: Array<[string, Record<string, unknown>, number]> = [
          ['CreateWebHook', { app: 'x', event: 'optin_started', url: 'https://a.example.com/' }, 3],
          ['CreateWebHook', { app: 'x', event: 'optin_finalized', url: 'not a url' }, 3],
          ['CreateWebHook', { app: 'a'.repeat(300), event: 'optin_finalized', url: 'https://a.example.com/' }, 3],
          ['CreateWebHook', { event: 'optin_finalized', url: 'https://a.example.com/' }, 2],
          ['GetWebHooks', { event: 'nonsense' }, 3],
          ['ActivateWebHook', { id: '12x' }, 3],
          ['ActivateWebHook', { id: '1', replayEvents: 'maybe' }, 3],
          ['DeleteWebHookById', { id: '-1' }, 3],
        ];
        // PHP's SoapClient converts values to the WSDL's int and boolean itself ('12x' leaves as 12): only untyped clients can send these.
        const typed = label.startsWith('PHP');
        for (const [fn, params, error] of cases) {
          if (typed && ('id' in params || 'replayEvents' in params)) continue;
          const answer = await client.call(fn, { ...wrong, ...params });
          expect(answer.error, `${fn} ${JSON.stringify(params).slice(0, 60)}`).to.equal(error);
        }
        expect((await client.call('CreateWebHook', { ...wrong, app: 'x', event: 'optin_finalized', url: 'https://a.example.com/' })).error).to.equal(1);
      });

      it('answers error 5 for targets that are not allowed', async () => {
        for (const url of ['javascript:alert(1)', 'ftp://files.example.com/', 'http://127.0.0.1/', 'http://169.254.169.254/latest/meta-data',
          'http://[::1]/', 'http://0x7f000001/', 'http://user:pw@hooks.example.com/', 'http://localhost:8080/', 'http://db.internal/']) {
          const answer = await client.call('CreateWebHook', { ...auth(), app: 'x', event: 'optin_finalized', url });
          expect(answer.error, url).to.equal(5);
        }
      });

      it('activates an active webhook without change, and refuses ids of other accounts with error 4', async () => {
        const [first] = (await client.call('GetWebHooks', auth())).result;
        const answer = await client.call('ActivateWebHook', { ...auth(), id: first.id, replayEvents: true });
        expect(answer.error).to.equal(0);
        expect(answer.message).to.equal('webhook is already active');
        expect(answer.result).to.include({ id: first.id, active: true, replayedEvents: 0 });

        const foreign = await client.call('ActivateWebHook', { username: other.username, password: other.password, id: first.id });
        expect(foreign).to.deep.equal({ error: 4, message: 'no webhook with this id' });
        const missing = await client.call('ActivateWebHook', { ...auth(), id: 99999999 });
        expect(missing.error).to.equal(4);
        const foreignDelete = await client.call('DeleteWebHookById', { username: other.username, password: other.password, id: first.id });
        expect(foreignDelete.error).to.equal(4);
      });

      it('answers error 6 once the account has as many webhooks as allowed', async () => {
        const third = await client.call('CreateWebHook', { ...auth(), app: 'third', event: 'optin_finalized', url: 'https://a.example.com/' });
        expect(third.error).to.equal(0);
        const fourth = await client.call('CreateWebHook', { ...auth(), app: 'fourth', event: 'optin_finalized', url: 'https://a.example.com/' });
        expect(fourth.error).to.equal(6);
        expect((await client.call('GetWebHooks', auth())).result).to.have.length(3);
      });

      it('deletes a webhook, and a second delete finds nothing', async () => {
        const [first] = (await client.call('GetWebHooks', auth())).result;
        const answer = await client.call('DeleteWebHookById', { ...auth(), id: first.id });
        expect(answer).to.deep.equal({ error: 0, message: '', result: true });
        expect((await client.call('DeleteWebHookById', { ...auth(), id: first.id })).error).to.equal(4);
        expect((await client.call('GetWebHooks', auth())).result.map((w: any) => w.id)).not.to.include(first.id);
      });
    });
  }
});
