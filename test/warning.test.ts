import { expect } from 'chai';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';
import { SmtpSink } from './helpers/smtpSink.js';

/** The warning before deactivation: one e-mail per run of failures, before the deactivation's own. */
describe('the warning before deactivation', function () {
  this.timeout(30_000);
  let service: RunningService;
  let sink: SmtpSink;
  let receiver: TestReceiver;
  const clock = new ManualClock('2026-10-05T08:00:00Z');

  before(async () => {
    sink = new SmtpSink();
    const port = await sink.start();
    service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', SMTP_URL: `smtp://127.0.0.1:${port}`, RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '4', WARN_AFTER_FAILURES: '2', DELIVERY_TIMEOUT_MS: '2000' },
      { clock },
    );
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await sink.stop();
    await service.stop();
  });

  /** A webhook whose URL fails `failures` times in a row, one pass a minute. */
  async function failing(account: TestAccount, failures: number) {
    const webhook = await service.app.webhooks.create(account.id, { app: 'CRM', event: 'optin_finalized', url: receiver.url(`/${account.username}`) });
    receiver.reply = () => ({ status: 503, body: 'maintenance until 10:00' });
    await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 1 } }]);
    const worker = service.app.createWorker();
    for (let i = 0; i < failures; i += 1) {
      await worker.runOnce();
      clock.advance(60_000);
    }
    return { webhook, worker };
  }

  const mailsTo = (account: TestAccount) => sink.messages.filter((m) => (m.to && 'text' in m.to ? m.to.text : '').includes(account.username));

  it('warns once when a run of failures reaches the threshold; a success ends the run and the webhook stays active', async () => {
    const account = await makeAccount(service, { language: 'en' });
    const { webhook, worker } = await failing(account, 3);
    const mails = mailsTo(account);
    expect(mails.map((m) => m.subject)).to.deep.equal(['Webhook failing: CRM (optin_finalized)']);
    const text = String(mails[0]!.text);
    for (const expected of [
      'The last 2 attempts to deliver events of your webhook "CRM" (optin_finalized) failed, the first on 5 Oct 2026, 08:00 UTC.',
      'Last error: HTTP error status: HTTP 503: maintenance until 10:00',
      'What to do: Your server had an internal error (HTTP 503). Check its error log.',
      'Next attempt: 5 Oct 2026, 08:02 UTC',
      // After the 2nd failure at 08:01: two more attempts, a minute apart, each up to 2 s.
      'Deactivation: at the latest on 5 Oct 2026, 08:03 UTC, if every attempt until then fails',
      'Test the URL now:',
      'This is the only warning for this run of failures',
    ]) {
      expect(text).to.contain(expected);
    }
    expect(text).to.match(/^http\S+\/webhooks\/test\?token=\S+$/m);

    receiver.reply = () => ({ status: 200 });
    await worker.runOnce();
    const [[row]] = await service.app.pool.query<any[]>('select active, failure_count from webhooks where id = ?', [webhook.id]);
    expect(row).to.deep.equal({ active: 1, failure_count: 0 });
    await worker.runOnce();
    expect(mailsTo(account), 'no more mail for this run').to.have.length(1);

    // A new run of failures gets a warning of its own.
    receiver.reply = () => ({ status: 503, body: 'again' });
    await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 2 } }]);
    for (let i = 0; i < 2; i += 1) {
      await worker.runOnce();
      clock.advance(60_000);
    }
    await worker.runOnce();
    expect(mailsTo(account).map((m) => m.subject)).to.deep.equal(['Webhook failing: CRM (optin_finalized)', 'Webhook failing: CRM (optin_finalized)']);
    receiver.reply = () => ({ status: 200 });
    await worker.runOnce();
  });

  it('sends the warning and then, at deactivation, the deactivation notice: two different e-mails, in German for a German account', async () => {
    const account = await makeAccount(service, { language: 'de' });
    const { webhook } = await failing(account, 5);
    const mails = mailsTo(account);
    expect(mails.map((m) => m.subject)).to.deep.equal(['Webhook schlägt fehl: CRM (optin_finalized)', 'Webhook deaktiviert: CRM (optin_finalized)']);
    expect(String(mails[0]!.text)).to.contain('URL jetzt testen:');
    expect(String(mails[1]!.text)).to.contain('Reaktivieren und das gepufferte Ereignis senden:');
    for (const mail of mails) expect(String(mail.text), 'both link to the portal as well').to.contain(`Webhook im Portal öffnen:\n${service.baseUrl}/portal/webhooks/${webhook.id}\n`);
    const [[row]] = await service.app.pool.query<any[]>('select active from webhooks where id = ?', [webhook.id]);
    expect(row.active).to.equal(0);
    const [notifications] = await service.app.pool.query<any[]>('select kind from notifications where webhook_id = ? order by id', [webhook.id]);
    expect(notifications.map((n) => n.kind)).to.deep.equal(['webhook_failing', 'webhook_deactivated']);
  });

  it("sends no warning with WARN_AFTER_FAILURES=0, and refuses a threshold that would come after the deactivation", async () => {
    const { loadConfig } = await import('../src/config.js');
    expect(() => loadConfig({ DEACTIVATE_AFTER_FAILURES: '4', WARN_AFTER_FAILURES: '4' })).to.throw(/WARN_AFTER_FAILURES=4 is not below DEACTIVATE_AFTER_FAILURES=4/);
    expect(loadConfig({ DEACTIVATE_AFTER_FAILURES: '3' }).warnAfterFailures, 'no default warning when deactivation comes that soon').to.equal(0);
    expect(loadConfig({}).warnAfterFailures).to.equal(4);
    const quiet = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '4', WARN_AFTER_FAILURES: '0' }, { clock });
    try {
      const account = await makeAccount(quiet);
      await quiet.app.webhooks.create(account.id, { app: 'CRM', event: 'optin_finalized', url: receiver.url('/quiet') });
      receiver.reply = () => ({ status: 503 });
      await quiet.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 1 } }]);
      const worker = quiet.app.createWorker();
      for (let i = 0; i < 3; i += 1) {
        await worker.runOnce();
        clock.advance(60_000);
      }
      const [notifications] = await quiet.app.pool.query<any[]>('select kind from notifications');
      expect(notifications).to.deep.equal([]);
    } finally {
      await quiet.stop();
    }
  });
});
