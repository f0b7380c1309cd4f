import { expect } from 'chai';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshots } from './helpers/browser.js';
import { jsonClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { deactivatedWebhook, reactivationLinksOf } from './helpers/scenarios.js';
import { makeAccount, ManualClock, startService, type RunningService } from './helpers/service.js';
import { SmtpSink } from './helpers/smtpSink.js';

describe('reactivating from the e-mail in a real browser', function () {
  this.timeout(60_000);
  let service: RunningService;
  let sink: SmtpSink;
  let receiver: TestReceiver;
  let browser: Browser;
  const clock = new ManualClock('2026-05-04T08:00:00Z');

  before(async () => {
    sink = new SmtpSink();
    const port = await sink.start();
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', SMTP_URL: `smtp://127.0.0.1:${port}`, DEACTIVATE_AFTER_FAILURES: '3', RETRY_SCHEDULE: '60' }, { clock });
    receiver = await new TestReceiver().start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await receiver.stop();
    await sink.stop();
    await service.stop();
  });

  for (const language of ['en', 'de'] as const) {
    it(`opens the link from the ${language} e-mail, confirms, and the buffered events arrive in order`, async () => {
      const worker = service.app.createWorker();
      const account = await makeAccount(service, { language });
      const hook = await deactivatedWebhook({ service, client: jsonClient(service.baseUrl), receiver, worker, clock }, account, 2);
      await worker.runOnce();
      const mail = sink.messages.find((m) => String(m.text).includes(`/${account.username}`))!;
      expect(mail, 'the notification e-mail').to.not.equal(undefined);

      const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
      await page.setContent(String(mail.html));
      await page.screenshot({ path: path.join(screenshots, `notification-email-${language}.png`), fullPage: true });

      await page.goto(reactivationLinksOf(mail).replay);
      await page.screenshot({ path: path.join(screenshots, `reactivation-page-${language}.png`), fullPage: true });
      await page.getByRole('button', { name: language === 'de' ? 'URL testen' : 'Test the URL' }).click();
      await page.waitForSelector('#test-result.ok');
      const checkbox = page.locator('input[type="checkbox"][name="replay"]');
      expect(await checkbox.isChecked()).to.equal(true);
      await page.screenshot({ path: path.join(screenshots, `reactivation-tested-${language}.png`), fullPage: true });
      receiver.receipts.length = 0;
      await page.getByRole('button', { name: language === 'de' ? 'Webhook reaktivieren' : 'Reactivate webhook' }).click();
      await page.waitForSelector('p.ok');
      expect(await page.locator('h1').textContent()).to.equal(language === 'de' ? 'Webhook reaktiviert' : 'Webhook reactivated');
      await page.screenshot({ path: path.join(screenshots, `reactivation-done-${language}.png`), fullPage: true });
      await page.close();

      const [rows] = await service.app.pool.query<any[]>('select active from webhooks where id = ?', [hook.id]);
      expect(rows[0].active).to.equal(1);
      await worker.runOnce();
      expect(receiver.receipts.map((r) => JSON.parse(r.body).n)).to.deep.equal([0, 1, 2]);
    });
  }
});

describe('the warning e-mail and its test page in a real browser', function () {
  this.timeout(60_000);

  it('warns once, links to a page that tests the URL and shows a failed and then a passed test', async () => {
    const sink = new SmtpSink();
    const port = await sink.start();
    const clock = new ManualClock('2026-05-04T08:00:00Z');
    const service = await startService(
      { ALLOW_PRIVATE_TARGETS: '1', SMTP_URL: `smtp://127.0.0.1:${port}`, DEACTIVATE_AFTER_FAILURES: '5', WARN_AFTER_FAILURES: '2', RETRY_SCHEDULE: '60' },
      { clock },
    );
    const receiver = await new TestReceiver().start();
    const browser = await launchChromium();
    try {
      const account = await makeAccount(service, { language: 'en' });
      await service.app.webhooks.create(account.id, { app: 'CRM sync', event: 'optin_finalized', url: receiver.url('/crm') });
      receiver.reply = () => ({ status: 502, body: 'Bad Gateway: the CRM backend is down' });
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 1 } }]);
      const worker = service.app.createWorker();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await worker.runOnce();
        clock.advance(120_000);
      }
      expect(sink.messages.map((m) => m.subject)).to.deep.equal(['Webhook failing: CRM sync (optin_finalized)']);
      const mail = sink.messages[0]!;
      const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
      await page.setContent(String(mail.html));
      await page.screenshot({ path: path.join(screenshots, 'warning-email-en.png'), fullPage: true });
      const testUrl = /^(http\S+\/webhooks\/test\?token=\S+)$/m.exec(String(mail.text))![1]!;

      await page.goto(testUrl);
      await page.getByRole('button', { name: 'Test the URL now' }).click();
      await page.waitForSelector('#test-result.bad');
      expect(await page.locator('#test-result').textContent()).to.contain('HTTP 502: Bad Gateway: the CRM backend is down');
      await page.screenshot({ path: path.join(screenshots, 'test-page-failed-en.png'), fullPage: true });

      receiver.reply = () => ({ status: 204 });
      await page.getByRole('button', { name: 'Test again' }).click();
      await page.waitForSelector('#test-result.ok');
      expect(await page.locator('#test-result').textContent()).to.match(/The test passed: your server answered HTTP 204 in \d+ ms/);
      await page.screenshot({ path: path.join(screenshots, 'test-page-passed-en.png'), fullPage: true });
      await page.close();
      const tests = receiver.receipts.filter((r) => r.headers['x-webhook-event'] === 'webhook_test');
      expect(tests).to.have.length(2);
    } finally {
      await browser.close();
      await receiver.stop();
      await sink.stop();
      await service.stop();
    }
  });
});

describe('the Webservicedemo in a real browser', function () {
  this.timeout(60_000);
  let service: RunningService;
  let browser: Browser;

  before(async () => {
    service = await startService({});
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await service.stop();
  });

  it('runs each function from its form, switches language and copies the code', async () => {
    const account = await makeAccount(service);
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: service.baseUrl });
    const page = await context.newPage();
    const runForm = async (fn: string, fill: Record<string, string>, check?: string[]) => {
      await page.goto(`${service.baseUrl}/webservicedemo?fn=${fn}&lang=en`);
      await page.getByLabel('username (required)').fill(account.username);
      await page.getByLabel('password (required)').fill(account.password);
      for (const [name, value] of Object.entries(fill)) {
        if (name === 'event') await page.selectOption('#p-event', value);
        else await page.fill(`#p-${name}`, value);
      }
      for (const name of check ?? []) await page.check(`#p-${name}`);
      await page.getByRole('button', { name: 'Run' }).click();
      await page.waitForSelector('#result');
      return (await page.locator('#result p').first().textContent()) ?? '';
    };

    expect(await runForm('CreateWebHook', { app: 'Shop "Süd"', event: 'optout_finalized', url: 'https://hooks.example.com/in' })).to.contain('Error code: 0 — success');
    expect(await page.locator('#decoded').textContent()).to.contain('"app": "Shop \\"Süd\\""');
    await page.screenshot({ path: path.join(screenshots, 'webservicedemo.png') });
    expect(await runForm('GetWebHooks', { event: 'optout_finalized' })).to.contain('Error code: 0');
    const id = /"id": (\d+)/.exec((await page.locator('#decoded').textContent()) ?? '')?.[1];
    expect(id).to.match(/^\d+$/);
    expect(await runForm('ActivateWebHook', { id: id! }, ['replayEvents'])).to.contain('webhook is already active');
    expect(await runForm('DeleteWebHookById', { id: id! })).to.contain('Error code: 0');
    expect(await runForm('DeleteWebHookById', { id: id! })).to.contain('Error code: 4 — no webhook with this id in this account');

    await page.getByRole('button', { name: 'Copy' }).first().click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).to.contain('new SoapClient(');
    expect(copied).to.contain("'password' => 'YOUR_PASSWORD'");

    await page.getByRole('link', { name: 'Deutsch' }).click();
    expect(await page.locator('html').getAttribute('lang')).to.equal('de');
    expect(await page.getByRole('button', { name: 'Ausführen' }).count()).to.equal(1);
    await page.screenshot({ path: path.join(screenshots, 'webservicedemo-de.png') });
    await context.close();
  });
});
