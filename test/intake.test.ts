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
});
