import { expect } from 'chai';
import type { DeliveryWorker } from '../src/services/deliveryWorker.js';
import { jsonClient, type WebserviceClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { capturingLogger, makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { SmtpSink } from './helpers/smtpSink.js';
import { freePort } from './helpers/ports.js';
import { deactivatedWebhook, reactivationLinksOf } from './helpers/scenarios.js';

const day = 86_400_000;

describe('the deactivation notification and the one-click reactivation', function () {
  this.timeout(30_000);
  let service: RunningService;
  let sink: SmtpSink;
  let receiver: TestReceiver;
  let worker: DeliveryWorker;
  let client: WebserviceClient;
  let smtpPort: number;
  const clock = new ManualClock('2026-05-04T08:00:00Z');

  before(async () => {
    smtpPort = await freePort();
    service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'token', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'Webhooks <webhooks@newsletter.example>', DEACTIVATE_AFTER_FAILURES: '3', RETRY_SCHEDULE: '60' },
      { clock },
    );
    worker = service.app.createWorker();
    client = jsonClient(service.baseUrl);
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await sink?.stop();
    await service.stop();
  });

  const deactivate = (account: TestAccount, buffered: number) => deactivatedWebhook({ service, client, receiver, worker, clock }, account, buffered);
  const linksOf = reactivationLinksOf;

  async function webhookState(id: number) {
    const [rows] = await service.app.pool.query<any[]>(
      "select w.active, (select count(*) from deliveries d where d.webhook_id = w.id and d.status = 'buffered') as buffered from webhooks w where w.id = ?",
      [id],
    );
    return { active: rows[0].active === 1, buffered: Number(rows[0].buffered) };
  }

  /** The hidden fields of the page's form whose action field says `action` (test or reactivate). */
  function formOf(html: string, action: 'test' | 'reactivate'): Record<string, string> {
    for (const [form] of html.matchAll(/<form[\s\S]*?<\/form>/g)) {
      const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
      if (fields.action === action) return fields;
    }
    throw new Error(`no ${action} form on the page`);
  }

  const post = (fields: Record<string, string>) => fetch(`${service.baseUrl}/webhooks/reactivate`, { method: 'POST', body: new URLSearchParams(fields) });

  it('delays the e-mail while SMTP is down and sends it exactly once when it is back', async () => {
    const account = await makeAccount(service, { language: 'en' });
    const hook = await deactivate(account, 2);
    const [pending] = await service.app.pool.query<any[]>('select status, send_attempts, last_error from notifications where webhook_id = ?', [hook.id]);
    expect(pending).to.have.length(1);
    expect(pending[0]).to.include({ status: 'pending' });
    expect(pending[0].send_attempts).to.be.at.least(1);
    expect(pending[0].last_error).to.match(/ECONNREFUSED|connect/i);

    const [backoff] = await service.app.pool.query<any[]>('select next_attempt_at from notifications where webhook_id = ?', [hook.id]);
    expect(backoff[0].next_attempt_at.getTime()).to.be.above(clock.now().getTime() - 60_000); // retried later, not dropped

    sink = new SmtpSink();
    await sink.start(smtpPort);
    clock.advance(10 * 60_000);
    await worker.runOnce();
    await worker.runOnce();
    clock.advance(day);
    await worker.runOnce();
    expect(sink.messages).to.have.length(1);
    const [sent] = await service.app.pool.query<any[]>('select status, subject, body_text, body_html from notifications where webhook_id = ?', [hook.id]);
    expect(sent[0].status).to.equal('sent');
    expect(sent[0].subject).to.equal('Webhook deactivated: CRM <sync> (optin_finalized)');
    expect(sent[0].body_html).to.contain('<!DOCTYPE html>');
  });

  it('tells in English what happened, what to do, and how to reactivate', async () => {
    const mail = sink.messages[0]!;
    const text = String(mail.text);
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').to.contain('@example.com');
    expect(mail.from?.value[0]).to.deep.include({ name: 'Webhooks', address: 'webhooks@newsletter.example' });
    for (const expected of [
      'Your webhook "CRM <sync>" for the event optin_finalized was deactivated automatically on',
      'because 3 delivery attempts in a row failed, between 4 May 2026, 08:00 UTC and 4 May 2026, 08:02 UTC',
      'Last error: HTTP error status: HTTP 500: upstream database unavailable',
      'What to do: Your server had an internal error (HTTP 500). Check its error log.',
      '3 events are buffered now, and new events are kept until 9 May 2026, 08:02 UTC',
      'Reactivate and send the 3 buffered events:',
      'Reactivate (discard the buffered events):',
      'ActivateWebHook with id=',
      'replayEvents=1',
    ]) {
      expect(text).to.contain(expected);
    }
    expect(text).to.contain(receiver.url('/'));
    const html = String(mail.html);
    expect(html).to.contain('CRM &lt;sync&gt;');
    expect(html).not.to.match(/<script|<img|<link /i);
    const links = linksOf(mail);
    expect(links.reactivate).to.match(new RegExp(`^${service.baseUrl}/webhooks/reactivate\\?token=`));
    expect(html).to.contain(links.replay.replace(/&/g, '&amp;'));
  });

  it('shows the webhook on GET without changing or sending anything, tests the URL first, and reactivates with replay on POST only once', async () => {
    const mail = sink.messages[0]!;
    const { replay } = linksOf(mail);
    const [row] = await service.app.pool.query<any[]>("select id from webhooks where app = 'CRM <sync>' order by id limit 1");
    const id = row[0].id;

    receiver.receipts.length = 0;
    for (let i = 0; i < 2; i += 1) {
      const response = await fetch(replay);
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-security-policy')).to.contain("frame-ancestors 'none'");
      expect(response.headers.get('referrer-policy')).to.equal('no-referrer');
      const html = await response.text();
      expect(html).to.contain('CRM &lt;sync&gt;');
      expect(html).to.contain('HTTP 500: upstream database unavailable');
      expect(formOf(html, 'test')).to.include({ replay: '1' });
    }
    expect(await webhookState(id)).to.deep.equal({ active: false, buffered: 3 });
    expect(receiver.receipts, 'a GET sends nothing').to.have.length(0);

    const tested = await (await post(formOf(await (await fetch(replay)).text(), 'test'))).text();
    expect(tested).to.contain('The test passed: your server answered HTTP 200');
    expect(tested).to.match(/name="replay" value="1" checked/);
    expect(receiver.receipts.map((r) => r.headers['x-webhook-event'])).to.deep.equal(['webhook_test']);
    expect(await webhookState(id), 'a test changes nothing').to.deep.equal({ active: false, buffered: 3 });
    const form = formOf(tested, 'reactivate');

    const forged = await post({ ...form, csrf: 'guessed', replay: '1' });
    expect(forged.status).to.equal(404);
    expect(await webhookState(id)).to.deep.equal({ active: false, buffered: 3 });

    receiver.receipts.length = 0;
    const confirmed = await post({ ...form, replay: '1' });
    expect(confirmed.status).to.equal(200);
    expect(await confirmed.text()).to.contain('3 buffered events are being sent now');
    expect(await webhookState(id)).to.deep.equal({ active: true, buffered: 0 });
    await worker.runOnce();
    expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([0, 1, 2]);

    const again = await post({ ...form, replay: '1' });
    expect(again.status).to.equal(404);
    expect(await again.text()).to.contain('This link is no longer valid');
    expect((await fetch(replay)).status).to.equal(404);
  });

  it('after a failed test reactivates only on a second confirmation, and replays only when the customer insists', async () => {
    const account = await makeAccount(service, { language: 'en' });
    const hook = await deactivate(account, 2);
    await worker.runOnce();
    const { replay } = linksOf(sink.messages.at(-1)!);
    receiver.reply = () => ({ status: 503, body: 'still down' });
    try {
      const tested = await (await post(formOf(await (await fetch(replay)).text(), 'test'))).text();
      expect(tested).to.contain('The test failed');
      expect(tested).to.contain('HTTP 503: still down');
      expect(tested).not.to.match(/name="replay" value="1" checked/);
      const form = formOf(tested, 'reactivate');
      const refused = await post(form);
      expect(refused.status).to.equal(422);
      expect(await refused.text()).to.contain('please confirm');
      expect(await webhookState(hook.id)).to.deep.equal({ active: false, buffered: 3 });
      // A failed test cannot be passed off as a passed one.
      expect((await post({ ...form, result: 'passed' })).status).to.equal(422);
      const confirmed = await post({ ...form, reactivateAnyway: '1' });
      expect(await confirmed.text()).to.contain('Buffered events were discarded');
      expect(await webhookState(hook.id)).to.deep.equal({ active: true, buffered: 0 });
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('writes in German for a German account and discards the buffer when replay is not chosen', async () => {
    const account = await makeAccount(service, { language: 'de' });
    const hook = await deactivate(account, 1);
    await worker.runOnce();
    const mail = sink.messages.at(-1)!;
    expect(mail.subject).to.equal('Webhook deaktiviert: CRM <sync> (optin_finalized)');
    const text = String(mail.text);
    for (const expected of [
      'Ihr Webhook „CRM <sync>“ für das Ereignis optin_finalized wurde am',
      'weil 3 Zustellversuche nacheinander fehlgeschlagen sind',
      'Letzter Fehler: HTTP-Fehlerstatus: HTTP 500',
      'Was zu tun ist: Ihr Server hatte einen internen Fehler (HTTP 500). Prüfen Sie sein Fehlerprotokoll.',
      '2 Ereignisse sind derzeit gepuffert',
      'Reaktivieren und die 2 gepufferten Ereignisse senden:',
      'Reaktivieren (gepufferte Ereignisse verwerfen):',
      'ActivateWebHook mit id=',
    ]) {
      expect(text).to.contain(expected);
    }
    const page = await (await fetch(linksOf(mail).reactivate)).text();
    expect(page).to.contain('<html lang="de">');
    const tested = await (await post(formOf(page, 'test'))).text();
    expect(tested).to.contain('Der Test war erfolgreich');
    expect(tested).not.to.match(/name="replay" value="1" checked/);
    const confirmed = await post(formOf(tested, 'reactivate'));
    expect(await confirmed.text()).to.contain('Gepufferte Ereignisse wurden verworfen');
    expect(await webhookState(hook.id)).to.deep.equal({ active: true, buffered: 0 });
  });

  it('refuses tampered, foreign, expired and outdated tokens with the same friendly page', async () => {
    const account = await makeAccount(service, { language: 'en' });
    const hook = await deactivate(account, 0);
    await worker.runOnce();
    const link = linksOf(sink.messages.at(-1)!).reactivate;
    const token = new URL(link).searchParams.get('token')!;
    const [, webhookId, deactivation, expires, signature] = token.split('.');
    const variants = [
      `v1.${Number(webhookId) - 1}.${deactivation}.${expires}.${signature}`, // another webhook
      `v1.${webhookId}.${deactivation}.${Number(expires) + 86400}.${signature}`, // a later expiry
      `v1.${webhookId}.${deactivation}.${expires}.${signature!.slice(0, -2)}AA`, // a changed signature
      'not-a-token',
      '',
    ];
    const invalidPage = await (await fetch(`${service.baseUrl}/webhooks/reactivate?token=x`)).text();
    for (const variant of variants) {
      const response = await fetch(`${service.baseUrl}/webhooks/reactivate?token=${encodeURIComponent(variant)}`);
      expect(response.status, variant).to.equal(404);
      expect(await response.text()).to.equal(invalidPage);
    }
    expect((await fetch(link)).status).to.equal(200);
    clock.advance(31 * day);
    expect((await fetch(link)).status).to.equal(404); // expired
    clock.advance(-31 * day);
    expect((await fetch(link)).status).to.equal(200);
    await client.call('ActivateWebHook', { username: account.username, password: account.password, id: hook.id });
    expect((await fetch(link)).status).to.equal(404); // that deactivation is over
    await client.call('DeleteWebHookById', { username: account.username, password: account.password, id: hook.id });
    expect((await fetch(link)).status).to.equal(404);
  });
});

describe('notifications without a mail server (SMTP_URL unset)', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;
  const clock = new ManualClock('2026-05-04T08:00:00Z');
  const captured = capturingLogger();

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '3' }, { clock, log: captured.log });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  it('keeps the e-mail as stored, not sent, says so in one log line, and shows it on the command line', async () => {
    const account = await makeAccount(service, { language: 'en' });
    const worker = service.app.createWorker();
    const hook = await deactivatedWebhook({ service, client: jsonClient(service.baseUrl), receiver, worker, clock }, account, 2);
    await worker.runOnce();
    const [[row]] = await service.app.pool.query<any[]>('select status, sent_at, body_text from notifications where webhook_id = ?', [hook.id]);
    expect(row).to.include({ status: 'stored', sent_at: null });
    expect(row.body_text).to.contain('/webhooks/reactivate?token=');
    const said = captured.lines.map((line) => JSON.parse(line).msg as string).filter((msg) => /notification e-mail/.test(msg));
    expect(said).to.deep.equal([`notification e-mail not sent: SMTP_URL is not set; it is stored, read it with: webhooks notifications --webhook ${hook.id}`]);
    expect(await service.app.metrics.text()).to.contain('webhooks_notifications_total{result="stored"} 1');

    const shown = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'notifications', '--webhook', String(hook.id)], {
      env: { ...process.env, DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
    });
    expect(shown.stdout).to.match(new RegExp(`^notification \\d+ {2}webhook ${hook.id} {2}webhook_deactivated {2}\\S+Z {2}stored, not sent \\(SMTP_URL is not set\\)$`, 'm'));
    expect(shown.stdout).to.contain('Subject: Webhook deactivated: CRM <sync> (optin_finalized)');
    expect(shown.stdout).to.contain('/webhooks/reactivate?token=');
    const byAccount = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'notifications', '--account', account.username], {
      env: { ...process.env, DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
    });
    expect(byAccount.stdout).to.equal(shown.stdout);
    const wrong = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'notifications'], {
      env: { ...process.env, DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(wrong).to.deep.include({ code: 2 });
    expect((wrong as { stderr: string }).stderr.split('\n')[0]).to.equal('webhooks: notifications: give --webhook or --account');
  });
});
