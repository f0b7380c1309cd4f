import { hashSync } from '@node-rs/bcrypt';
import { expect } from 'chai';
import { jsonClient } from './helpers/clients.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

const token = 'hostile-token';
const soapOpen = '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">';
const call = (fn: string, params: string) =>
  `${soapOpen}<s:Body><${fn} xmlns="urn:newsletter-webhooks">${params}</${fn}></s:Body></s:Envelope>`;

/**
 * Hostile input against the surfaces that came after the webservice's own
 * hardening: nested XML and JSON, bodies sent before a token, repeated query
 * parameters, names and URLs with control characters, sign-ins that outlive
 * a password, a SOAPAction that names another function.
 */
describe('hostile input against the newer surfaces', function () {
  this.timeout(60_000);
  let service: RunningService;
  let account: TestAccount;

  before(async () => {
    service = await startService({ INTERNAL_TOKEN: token, ALLOW_PRIVATE_TARGETS: '1' });
    account = await makeAccount(service);
  });
  after(() => service.stop());

  /** How long /healthz takes at most while `work` runs: the event loop is shared with every other request. */
  async function slowestHealthzDuring(work: Promise<unknown>): Promise<number> {
    let slowest = 0;
    let done = false;
    const finished = work.finally(() => { done = true; });
    while (!done) {
      const started = performance.now();
      await fetch(`${service.baseUrl}/healthz`).then((r) => r.text());
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await finished;
    return slowest;
  }

  const postSoap = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${service.baseUrl}/soap`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...headers }, body }).then(async (r) => ({ status: r.status, text: await r.text() }));

  it('refuses deeply nested SOAP at once, without credentials, while /healthz keeps answering', async () => {
    const nested = soapOpen + '<a>'.repeat(21_700);
    expect(nested.length).to.be.below(service.config.maxCallBytes);
    const answers = Promise.all(Array.from({ length: 4 }, () => postSoap(nested)));
    const slowest = await slowestHealthzDuring(answers);
    for (const answer of await answers) {
      expect(answer.status).to.equal(500);
      expect(answer.text).to.include('soap:Client').and.to.include('nested more than');
    }
    // Before the bound, four such requests held the event loop for about nine seconds.
    expect(slowest, '/healthz while nested SOAP is read').to.be.below(1000);
  });

  it('refuses a SOAP call with more elements than any call has, and still takes a real call with a SOAP Header', async () => {
    const flood = call('GetWebHooks', '<x/>'.repeat(15_000));
    expect((await postSoap(flood)).text).to.include('more than');
    const withHeader = `${soapOpen}<s:Header><Security><UsernameToken><Username>a</Username></UsernameToken></Security></s:Header>` +
      `<s:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>${account.username}</username><password>${account.password}</password></GetWebHooks></s:Body></s:Envelope>`;
    const answer = await postSoap(withHeader);
    expect(answer.status).to.equal(200);
    expect(answer.text).to.include('<error>0</error>');
  });

  it('refuses a SOAPAction that names another function, and takes the right one, an empty one or none', async () => {
    const getWebHooks = call('GetWebHooks', `<username>${account.username}</username><password>${account.password}</password>`);
    const wrong = await postSoap(getWebHooks, { soapaction: '"urn:newsletter-webhooks#DeleteWebHookById"' });
    expect(wrong.status).to.equal(500);
    expect(wrong.text).to.include('soap:Client').and.to.include('SOAPAction');
    for (const soapaction of ['"urn:newsletter-webhooks#GetWebHooks"', '""', 'urn:newsletter-webhooks/GetWebHooks', undefined]) {
      const answer = await postSoap(getWebHooks, soapaction === undefined ? {} : { soapaction });
      expect(answer.status, String(soapaction)).to.equal(200);
    }
  });

  const postIntake = (body: string, bearer = token) =>
    fetch(`${service.baseUrl}/internal/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body,
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as { error: number; message: string } }));

  it('checks the token before it reads an internal body', async () => {
    expect(await postIntake('{bad', '')).to.deep.include({ status: 401 });
    expect(await postIntake('{bad', 'wrong')).to.deep.include({ status: 401 });
    const accounts = await fetch(`${service.baseUrl}/internal/accounts/someone`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{bad' });
    expect(accounts.status).to.equal(401);
    // Eight 1 MB nested arrays without a token are refused before a byte of them is parsed.
    const huge = '['.repeat(1_000_000);
    const answers = Promise.all(Array.from({ length: 8 }, () => postIntake(huge, '').catch(() => ({ status: 0 }))));
    const slowest = await slowestHealthzDuring(answers);
    for (const answer of await answers) expect(answer.status).to.be.oneOf([401, 0]);
    expect(slowest, '/healthz while unauthenticated bodies arrive').to.be.below(1000);
  });

  it('answers a payload nested deeper than the limit with 400 naming the limit, with a token, and stores nothing', async () => {
    const [before] = await service.app.pool.query<any[]>('select count(*) as n from events');
    for (const depth of [5_000, 100_000]) {
      const payload = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const answer = await postIntake(`{"account":"${account.username}","event":"optin_finalized","payload":${payload}}`);
      expect(answer.status, `depth ${depth}`).to.equal(400);
      expect(answer.json.error).to.equal(3);
      expect(answer.json.message).to.match(/nested more than \d+ levels/);
    }
    const fine = '{"a":'.repeat(30) + '1' + '}'.repeat(30);
    expect((await postIntake(`{"account":"${account.username}","event":"optin_finalized","payload":${fine}}`)).status).to.equal(202);
    const [after] = await service.app.pool.query<any[]>('select count(*) as n from events');
    expect(Number(after[0].n)).to.equal(Number(before[0].n) + 1);
  });

  it('refuses deeply nested JSON on the webservice and the Zapier endpoint with a clear error', async () => {
    const nested = '['.repeat(15_000) + ']'.repeat(15_000);
    const json = await fetch(`${service.baseUrl}/json/getwebhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"username":${nested}}` });
    expect(json.status).to.equal(400);
    expect(((await json.json()) as { message: string }).message).to.match(/nested more than/);
    const zapier = await fetch(`${service.baseUrl}/zapier/hooks`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: `{"hookUrl":${nested}}`,
    });
    expect(zapier.status).to.equal(400);
    expect(((await zapier.json()) as { message: string }).message).to.match(/nested more than/);
  });

  async function portalSession(): Promise<{ cookie: string; link: string }> {
    const link = (await jsonClient(service.baseUrl).call('GetPortalLink', { username: account.username, password: account.password })).result as string;
    const signin = await fetch(link, { redirect: 'manual' });
    expect(signin.status).to.equal(303);
    const cookie = signin.headers.get('set-cookie')!.split(';')[0]!;
    return { cookie, link };
  }
  const portal = (path: string, cookie: string) => fetch(`${service.baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });

  it('ends portal sessions and unused sign-in links when the password changes, and not when nothing changes', async () => {
    const open = await portalSession();
    const unused = (await jsonClient(service.baseUrl).call('GetPortalLink', { username: account.username, password: account.password })).result as string;
    expect((await portal('/portal', open.cookie)).status).to.equal(200);

    const put = (body: unknown) => fetch(`${service.baseUrl}/internal/accounts/${account.username}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    // A change of e-mail address leaves the session open.
    expect((await put({ email: 'new.address@example.com' })).status).to.equal(200);
    expect((await portal('/portal', open.cookie)).status).to.equal(200);

    account.password = 'a-brand-new-password';
    expect((await put({ password: account.password })).status).to.equal(200);
    expect((await portal('/portal', open.cookie)).status, 'the session opened before').to.equal(401);
    expect((await fetch(unused, { redirect: 'manual' })).status, 'the link issued before').to.equal(404);

    // A PUT of a hash (bcrypt, as PHP writes it) ends them too.
    const again = await portalSession();
    const bcrypt = hashSync('another-password', 4);
    expect((await put({ passwordHash: bcrypt })).status).to.equal(200);
    expect((await portal('/portal', again.cookie)).status).to.equal(401);
    // The same hash again changes nothing, and so ends nothing.
    account.password = 'another-password';
    const third = await portalSession();
    expect((await put({ passwordHash: bcrypt })).status).to.equal(200);
    expect((await portal('/portal', third.cookie)).status).to.equal(200);
  });

  it('takes the first of a repeated query parameter, never answering 500', async () => {
    const { cookie } = await portalSession();
    const webhook = await service.app.webhooks.create(account.id, { app: 'crm', event: 'optin_finalized', url: 'http://127.0.0.1:9/hook' });
    for (const query of ['subscriber=a&subscriber=b', 'messageId=msg_1&messageId=msg_2', 'status=pending&status=failed', 'lang=de&lang=en']) {
      const response = await portal(`/portal/webhooks/${webhook.id}?${query}`, cookie);
      expect(response.status, query).to.equal(200);
    }
    expect((await fetch(`${service.baseUrl}/soap?wsdl&wsdl`)).status).to.equal(200);
  });

  it('validates a webhook\'s name and URL the same way through the webservice, the portal and Zapier', async () => {
    const json = jsonClient(service.baseUrl);
    const creds = { username: account.username, password: account.password, event: 'optin_finalized' };
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['an empty name', { app: '   ', url: 'https://hooks.example.com/a' }, 2, 'app'],
      ['a NUL in the name', { app: 'crm\u0000', url: 'https://hooks.example.com/a' }, 3, 'app'],
      ['an ESC in the name', { app: 'crm\u001b[31m', url: 'https://hooks.example.com/a' }, 3, 'app'],
      ['a line break in the name', { app: 'crm\nfake log line', url: 'https://hooks.example.com/a' }, 3, 'app'],
      ['a right-to-left override in the name', { app: 'crm\u202egnp.exe', url: 'https://hooks.example.com/a' }, 3, 'app'],
      ['CR LF in the URL', { app: 'crm', url: 'https://hooks.example.com/a\r\nX-Injected: 1' }, 3, 'url'],
      ['a space in the URL', { app: 'crm', url: 'https://hooks.example.com/a b' }, 3, 'url'],
      ['a tab in the URL', { app: 'crm', url: 'https://hooks.example.com/\ta' }, 3, 'url'],
    ];
    const [before] = await service.app.pool.query<any[]>('select count(*) as n from webhooks');
    for (const [what, params, code, name] of cases) {
      const answer = await json.call('CreateWebHook', { ...creds, ...params });
      expect(answer.error, what).to.equal(code);
      expect(answer.message, what).to.include(name);
    }
    // The portal's form.
    const { cookie } = await portalSession();
    const page = await (await portal('/portal', cookie)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    for (const app of ['', 'crm\u202egnp']) {
      const response = await fetch(`${service.baseUrl}/portal/webhooks`, {
        method: 'POST', redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, app, event: 'optin_finalized', url: 'https://hooks.example.com/a' }).toString(),
      });
      expect(response.status, JSON.stringify(app)).to.equal(422);
    }
    // Zapier's subscribe.
    const zapier = await fetch(`${service.baseUrl}/zapier/hooks`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hookUrl: 'https://hooks.example.com/a\r\nb', event: 'optin_finalized' }),
    });
    expect(zapier.status).to.equal(400);
    const [after] = await service.app.pool.query<any[]>('select count(*) as n from webhooks');
    expect(Number(after[0].n)).to.equal(Number(before[0].n));
  });
});
