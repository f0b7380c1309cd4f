import { expect } from 'chai';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

describe('event intake', () => {
  let service: RunningService;
  let account: TestAccount;

  before(async () => {
    service = await startService({ INTERNAL_TOKEN: 'intake-token', MAX_PAYLOAD_BYTES: '1024' });
    account = await makeAccount(service);
  });
  after(() => service.stop());

  async function post(body: unknown, token = 'intake-token', contentType = 'application/json') {
    const response = await fetch(`${service.baseUrl}/internal/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, answer: (await response.json()) as any };
  }

  async function storedEvents(): Promise<number> {
    const [rows] = await service.app.pool.query<any[]>('select count(*) as n from events');
    return Number(rows[0].n);
  }

  it('stores an event durably before answering, and a batch as a whole', async () => {
    const one = await post({ account: account.username, event: 'optout_finalized', payload: { id: 1 }, occurredAt: '2026-01-02T03:04:05Z' });
    expect(one.status).to.equal(202);
    expect(one.answer).to.deep.include({ error: 0, message: '' });
    expect(one.answer.result).to.include({ deliveries: 0 });
    const [rows] = await service.app.pool.query<any[]>('select event, payload, occurred_at from events where id = ?', [one.answer.result.id]);
    expect(rows[0]).to.deep.include({ event: 'optout_finalized', payload: '{"id":1}' });
    expect(rows[0].occurred_at.toISOString()).to.equal('2026-01-02T03:04:05.000Z');

    const batch = await post([
      { account: account.username, event: 'optin_finalized', payload: { id: 2 } },
      { account: account.username, event: 'optin_finalized', payload: { id: 3 } },
    ]);
    expect(batch.answer.result).to.have.length(2);
  });

  const refusals: Array<[string, unknown, number, RegExp]> = [
    ['an unknown account', { account: 'nobody', event: 'optin_finalized', payload: {} }, 3, /'account' names no account/],
    ['an unknown event', { account: 'ACCOUNT', event: 'optin_started', payload: {} }, 3, /'event' must be/],
    ['a payload that is not an object', { account: 'ACCOUNT', event: 'optin_finalized', payload: [1, 2] }, 3, /'payload' must be a JSON object/],
    ['a payload that is a string of non-JSON', { account: 'ACCOUNT', event: 'optin_finalized', payload: '{oops' }, 3, /'payload' is not valid JSON/],
    ['a payload over the size limit', { account: 'ACCOUNT', event: 'optin_finalized', payload: { text: 'x'.repeat(2000) } }, 3, /larger than 1024 bytes/],
    ['a missing payload', { account: 'ACCOUNT', event: 'optin_finalized' }, 2, /'payload' is missing/],
    ['a bad occurredAt', { account: 'ACCOUNT', event: 'optin_finalized', payload: {}, occurredAt: 'yesterday' }, 3, /'occurredAt'/],
    ['a batch with one bad event', [{ account: 'ACCOUNT', event: 'optin_finalized', payload: {} }, { account: 'ACCOUNT', event: 'nope', payload: {} }], 3, /^event 1: /],
  ];
  for (const [what, body, code, message] of refusals) {
    it(`refuses ${what} with error ${code} and stores nothing`, async () => {
      const before = await storedEvents();
      const withAccount = JSON.parse(JSON.stringify(body).replace(/"ACCOUNT"/g, JSON.stringify(account.username)));
      const { status, answer } = await post(withAccount);
      expect(status).to.equal(422);
      expect(answer.error).to.equal(code);
      expect(answer.message).to.match(message);
      expect(await storedEvents()).to.equal(before);
    });
  }

  it('refuses a wrong token, and malformed JSON, and stores nothing', async () => {
    const before = await storedEvents();
    const wrong = await post({ account: account.username, event: 'optin_finalized', payload: {} }, 'guess');
    expect(wrong.status).to.equal(401);
    expect(wrong.answer.error).to.equal(1);
    const malformed = await post('{"account": ', 'intake-token');
    expect(malformed.status).to.equal(400);
    expect(malformed.answer).to.deep.equal({ error: 3, message: 'the request body is not valid JSON' });
    expect(await storedEvents()).to.equal(before);
  });

  it('is refused altogether when no INTERNAL_TOKEN is configured', async () => {
    const closed = await startService({});
    try {
      const response = await fetch(`${closed.baseUrl}/internal/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: '{}' });
      expect(response.status).to.equal(403);
    } finally {
      await closed.stop();
    }
  });

  it('refuses an outbox row that cannot become an event, with its reason, and never holds up the rows behind it', async () => {
    const connection = await service.app.pool.getConnection();
    try {
      // A zero date gets in only past strict mode, as it may from an older platform release.
      await connection.query("set session sql_mode = ''");
      await connection.query(
        `insert into event_outbox (account, event, payload, occurred_at) values
         (?, 'optin_finalized', '{"n":"zero date"}', '0000-00-00 00:00:00'),
         (?, 'optin_finalized', '{"n": not json', null),
         (?, 'optin_started', '{"n":"unknown event"}', null),
         (?, 'optin_finalized', ?, null),
         ('nobody-at-all', 'optin_finalized', '{"n":"unknown account"}', null),
         (?, 'optin_finalized', '{"n":"fine"}', null)`,
        [account.username, account.username, account.username, account.username, JSON.stringify({ n: 'x'.repeat(2000) }), account.username],
      );
    } finally {
      connection.release();
    }
    expect(await service.app.intake.drainOutbox()).to.equal(1);
    const [refused] = await service.app.pool.query<any[]>('select refused_reason from event_outbox order by id');
    expect(refused.map((row) => row.refused_reason)).to.deep.equal([
      "parameter 'occurredAt' is not a valid date and time",
      "parameter 'payload' is not valid JSON",
      "parameter 'event' must be optin_finalized, optout_finalized or profilemanager_finalized",
      "parameter 'payload' is larger than 1024 bytes",
      "parameter 'account' names no account",
    ]);
    const [fine] = await service.app.pool.query<any[]>('select payload from events where payload = \'{"n":"fine"}\'');
    expect(fine).to.have.length(1);
    expect(await service.app.intake.drainOutbox(), 'refused rows are not taken again').to.equal(0);
  });

  it('takes an event id once: the same id again, over HTTP, in a batch, through the outbox or concurrently, is answered as accepted and stores nothing new', async () => {
    const other = await makeAccount(service);
    await service.app.webhooks.create(account.id, { app: 'idempotent', event: 'profilemanager_finalized', url: 'https://hooks.example.com/in' });
    const event = { account: account.username, event: 'profilemanager_finalized', id: 'platform-4711', payload: { subscriber_id: 9 } };
    const before = await storedEvents();
    const first = await post(event);
    expect(first.status).to.equal(202);
    expect(first.answer.result).to.deep.equal({ id: first.answer.result.id, deliveries: 1 });
    // The answer was lost; the platform sends it again.
    const again = await post(event);
    expect(again.status).to.equal(202);
    expect(again.answer.result).to.deep.equal({ id: first.answer.result.id, deliveries: 1, duplicate: true });
    const batch = await post([{ ...event, id: 'platform-4712' }, { ...event, id: 'platform-4712' }]);
    expect(batch.answer.result[1]).to.deep.include({ id: batch.answer.result[0].id, duplicate: true });
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => post({ ...event, id: 'platform-4713' })));
    expect(concurrent.map((c) => c.status)).to.deep.equal(Array(6).fill(202));
    expect(new Set(concurrent.map((c) => c.answer.result.id)).size, 'one event').to.equal(1);
    await service.app.pool.query("insert into event_outbox (account, event_id, event, payload) values (?, 'platform-4711', 'profilemanager_finalized', '{}')", [account.username]);
    await service.app.intake.drainOutbox();
    // Unique per account: another account may use the same id.
    expect((await post({ ...event, account: other.username })).answer.result).not.to.have.property('duplicate');
    expect(await storedEvents()).to.equal(before + 4);
    const [[{ n }]] = await service.app.pool.query<any[]>("select count(*) as n from deliveries d join events e on e.id = d.event_id where e.external_id = 'platform-4711'");
    expect(Number(n), 'one delivery, one webhook-id').to.equal(1);
    expect((await post({ ...event, id: 'x'.repeat(256) })).answer.error).to.equal(3);
  });

  it('answers 503 with Retry-After, and the webservice error 99 "briefly unavailable", while no database answers', async () => {
    const { freePort } = await import('./helpers/ports.js');
    const { loadConfig } = await import('../src/config.js');
    const { Application } = await import('../src/main.js');
    const { silentLogger } = await import('../src/logger.js');
    const { createServer } = await import('node:http');
    const app = new Application(loadConfig({ DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/gone`, INTERNAL_TOKEN: 'intake-token' }), silentLogger);
    const server = createServer(app.httpApp());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      const intake = await fetch(`${origin}/internal/events`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer intake-token' },
        body: JSON.stringify({ account: 'shop', event: 'optin_finalized', payload: {} }),
      });
      expect(intake.status).to.equal(503);
      expect(intake.headers.get('retry-after')).to.equal('5');
      const call = await fetch(`${origin}/json/getwebhooks`, { method: 'POST', body: new URLSearchParams({ username: 'shop', password: 'some-password' }) });
      expect(await call.json()).to.deep.equal({ error: 99, message: 'the service is briefly unavailable; try again in a few seconds' });
      expect((await fetch(`${origin}/readyz`)).status).to.equal(503);
    } finally {
      server.close();
      await app.close();
    }
  });
});
