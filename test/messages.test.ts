import { expect } from 'chai';
import { jsonClient } from './helpers/clients.js';
import { capturingLogger, makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

/** Messages a newcomer meets first: each says what to do, not only what is wrong. */
describe('messages that say what to do', () => {
  let service: RunningService;
  let account: TestAccount;
  const captured = capturingLogger();

  before(async () => {
    service = await startService({ LOGIN_FAILURE_LIMIT: '2', LOGIN_FAILURE_WINDOW_SECONDS: '600' }, { log: captured.log });
    account = await makeAccount(service);
  });
  after(() => service.stop());

  const call = (fn: string, params: Record<string, unknown>) => jsonClient(service.baseUrl).call(fn, params);

  it('a URL without a scheme: start it with https://', async () => {
    const answer = await call('CreateWebHook', { username: account.username, password: account.password, app: 'a', event: 'optin_finalized', url: 'shop.example.com/hook' });
    expect(answer).to.deep.equal({ error: 3, message: "parameter 'url' is not an absolute URL: start it with https:// (or http://)" });
  });

  it('a private target refused: the log names the setting that allows it for tests', async () => {
    const answer = await call('CreateWebHook', { username: account.username, password: account.password, app: 'a', event: 'optin_finalized', url: 'http://192.168.1.20/hook' });
    expect(answer.error).to.equal(5);
    const lines = captured.lines.map((line) => JSON.parse(line) as { msg: string; reason?: string });
    expect(lines.find((line) => line.msg.startsWith('target refused'))).to.deep.include({
      msg: 'target refused; ALLOW_PRIVATE_TARGETS=1 allows private and local addresses (for tests, never in production)',
      reason: answer.message,
    });
  });

  it('a GET from a browser: the functions take POST', async () => {
    const response = await fetch(`${service.baseUrl}/json/getwebhooks`);
    expect(response.status).to.equal(405);
    expect(response.headers.get('allow')).to.equal('POST');
    expect(await response.json()).to.deep.equal({
      error: 3, message: 'the functions take POST, with a form-encoded or JSON body (username, password and their parameters); try them at /webservicedemo',
    });
  });

  it('a lockout after failed logins: when to try again', async () => {
    const other = await makeAccount(service);
    const answers = [];
    for (let n = 0; n < 4; n += 1) answers.push(await call('GetWebHooks', { username: other.username, password: 'wrong' }));
    expect(answers.at(-1)).to.deep.equal({ error: 6, message: 'too many failed logins: try again in 10 minutes at the latest' });
  });
});
