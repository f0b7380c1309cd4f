import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseDatabaseUrl } from '../src/storage/database.js';
import { TestReceiver } from './helpers/receiver.js';
import { capturingLogger, makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

const run = promisify(execFile);
const marker = 'erase.me@example.com';
const kept = 'keep.me@example.com';

/** Erasure of one subscriber (GDPR Art. 17): every stored copy of its events goes, another subscriber's stays. */
describe('subscriber erasure', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;
  let account: TestAccount;
  const clock = new ManualClock('2026-07-01T08:00:00Z');
  const captured = capturingLogger();
  const hooks: Record<string, number> = {};

  before(async () => {
    service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'token', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '2' },
      { clock, log: captured.log },
    );
    receiver = await new TestReceiver().start();
    // Receivers that echo what they got in their error answers, as many do.
    receiver.reply = (receipt) =>
      receipt.path === '/delivered' ? { status: 200 }
      : receipt.path === '/gone' ? { status: 410 }
      : { status: 500, body: `could not process ${receipt.body}` };
    account = await makeAccount(service);
    for (const [path, event] of [['/delivered', 'optin_finalized'], ['/gone', 'optin_finalized'], ['/deactivated', 'optout_finalized'], ['/backing-off', 'profilemanager_finalized']]) {
      hooks[path!] = (await service.app.webhooks.create(account.id, { app: path!.slice(1), event: event!, url: receiver.url(path) })).id;
    }
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  async function emit(event: string, subscriber: 'erase-me' | 'keep-me') {
    const email = subscriber === 'erase-me' ? marker : kept;
    await service.app.intake.accept([{ account: account.username, event, subscriber, payload: { subscriber_id: subscriber, fields: [{ id: 1, value: email }] } }]);
  }

  async function erase(subscriber: string) {
    const response = await fetch(`${service.baseUrl}/internal/erasure`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer token' },
      body: JSON.stringify({ account: account.username, subscriber }),
    });
    expect(response.status).to.equal(200);
    return ((await response.json()) as { result: Record<string, number> }).result;
  }

  async function dump(): Promise<string> {
    const { connection } = parseDatabaseUrl(service.database.url);
    const { stdout } = await run('mariadb-dump', ['-h', String(connection.host), '-P', String(connection.port), '-u', String(connection.user), '--skip-extended-insert', '--hex-blob=false', service.database.name], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  }

  it('removes every stored copy of the subscriber, in every state, and keeps everyone else', async () => {
    const worker = service.app.createWorker();
    // delivered (on /delivered) and, after a 410, buffered then discarded (on /gone)
    await emit('optin_finalized', 'erase-me');
    await emit('optin_finalized', 'keep-me');
    await worker.runOnce();
    await service.app.webhooks.activate(account.id, hooks['/gone']!, false);
    // two failures with the payload echoed: deactivated, e-mailed, the rest buffered
    await emit('optout_finalized', 'erase-me');
    await worker.runOnce();
    clock.advance(60_000);
    await worker.runOnce();
    await emit('optout_finalized', 'keep-me');
    await emit('optout_finalized', 'erase-me');
    // one failure with the payload echoed: pending, backing off
    await emit('profilemanager_finalized', 'erase-me');
    await worker.runOnce();
    await emit('profilemanager_finalized', 'keep-me');
    // the outbox, by its subscriber column and by the payload's subscriber_id
    await service.app.pool.query(
      `insert into event_outbox (account, event, subscriber, payload) values (?, 'optin_finalized', 'erase-me', ?), (?, 'optin_finalized', null, ?), (?, 'optin_finalized', null, ?)`,
      [account.username, JSON.stringify({ fields: [{ value: marker }] }), account.username, JSON.stringify({ subscriber_id: 'erase-me', email: marker }),
        account.username, JSON.stringify({ subscriber_id: 'keep-me', email: kept })],
    );
    const [[notification]] = await service.app.pool.query<any[]>('select body_text from notifications where webhook_id = ?', [hooks['/deactivated']]);
    expect(notification.body_text, 'the e-mail told the echoed answer').to.contain(marker);
    expect(await dump()).to.contain(marker);
    const [[excerpts]] = await service.app.pool.query<any[]>('select count(*) as n from attempts where response like ?', [`%${marker}%`]);
    expect(Number(excerpts.n), 'the answers\' excerpts held it too').to.be.above(0);

    const erased = await erase('erase-me');
    // Scrubbed: the last errors of /deactivated, /backing-off and /gone and the two notifications that told them
    // (every text an attempt at the subscriber's deliveries brought back, "HTTP 410" included).
    expect(erased).to.deep.equal({ events: 4, deliveries: 5, unsentDeliveries: 3, attempts: 5, outboxRows: 2, scrubbedTexts: 5 });
    const everything = await dump();
    expect(everything).not.to.contain(marker);
    expect(everything).to.contain(kept);
    expect(captured.lines.join('\n')).not.to.contain(marker);

    expect(await erase('erase-me'), 'a second erasure finds nothing').to.deep.equal({ events: 0, deliveries: 0, unsentDeliveries: 0, attempts: 0, outboxRows: 0, scrubbedTexts: 0 });
  });

  it('replays only the other subscriber after the erasure', async () => {
    receiver.receipts.length = 0;
    receiver.reply = () => ({ status: 200 });
    const activation = await service.app.webhooks.activate(account.id, hooks['/deactivated']!, true);
    expect(activation.replayedEvents).to.equal(1);
    clock.advance(3_600_000);
    await service.app.createWorker().runOnce();
    const bodies = receiver.receipts.map((r) => r.body);
    expect(bodies.some((b) => b.includes(marker))).to.equal(false);
    expect(bodies.filter((b) => b.includes(kept)).length).to.be.at.least(2); // the replayed optout, the pending profile change, the outbox row
  });

  it('records nothing of an attempt in flight when its subscriber is erased meanwhile, and sends nothing more', async () => {
    const started = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '0.2', POLL_INTERVAL_MS: '20' });
    const slow = await new TestReceiver().start();
    const worker = started.app.createWorker();
    try {
      const someone = await makeAccount(started);
      const webhook = await started.app.webhooks.create(someone.id, { app: 'slow', event: 'optin_finalized', url: slow.url() });
      slow.reply = (receipt) => ({ status: 500, body: `no: ${receipt.body}`, delayMs: 400 });
      await started.app.intake.accept([{ account: someone.username, event: 'optin_finalized', subscriber: 'gone-soon', payload: { email: marker } }]);
      worker.start();
      await slow.waitFor(1);
      const erased = await started.app.erasure.erase({ account: someone.username, subscriber: 'gone-soon' });
      expect(erased).to.include({ events: 1, deliveries: 1, unsentDeliveries: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the attempt ends, is recorded, the webhook is due again
      await worker.stop();
      expect(slow.receipts).to.have.length(1);
      const [attempts] = await started.app.pool.query<any[]>('select count(*) as n from attempts');
      expect(Number(attempts[0].n)).to.equal(0);
      const [[row]] = await started.app.pool.query<any[]>('select last_error from webhooks where id = ?', [webhook.id]);
      expect(row.last_error).to.equal('[erased]');
    } finally {
      await worker.stop();
      await slow.stop();
      await started.stop();
    }
  });

  it('answers a missing subscriber with error 2 and an unknown account with error 3', async () => {
    const post = (body: unknown) =>
      fetch(`${service.baseUrl}/internal/erasure`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer token' }, body: JSON.stringify(body) })
        .then(async (r) => ({ status: r.status, answer: (await r.json()) as { error: number; message: string } }));
    expect(await post({ account: account.username })).to.deep.equal({ status: 422, answer: { error: 2, message: "parameter 'subscriber' is missing or empty" } });
    expect(await post({ account: 'nobody', subscriber: 'x' })).to.deep.equal({ status: 422, answer: { error: 3, message: "parameter 'account' names no account" } });
    const wrongToken = await fetch(`${service.baseUrl}/internal/erasure`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{}' });
    expect(wrongToken.status).to.equal(401);
  });
});
