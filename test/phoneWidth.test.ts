import { expect } from 'chai';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { brokenWords, expectAccessible, launchChromium, screenshots } from './helpers/browser.js';
import { jsonClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { deactivatedWebhook } from './helpers/scenarios.js';
import { makeAccount, ManualClock, startService, type RunningService } from './helpers/service.js';

/** The pages a newcomer opens on a phone (375 × 667): the reactivation page and the Webservicedemo, in both languages. */
describe('pages at phone width', function () {
  this.timeout(90_000);
  let service: RunningService;
  let receiver: TestReceiver;
  let browser: Browser;
  const clock = new ManualClock('2026-05-04T08:00:00Z');

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '3' }, { clock });
    receiver = await new TestReceiver().start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await receiver.stop();
    await service.stop();
  });

  for (const language of ['de', 'en'] as const) {
    it(`the reactivation page reads without broken words, in its language, one buffered event in the singular (${language})`, async () => {
      const account = await makeAccount(service, { language });
      const worker = service.app.createWorker();
      const hook = await deactivatedWebhook({ service, client: jsonClient(service.baseUrl), receiver, worker, clock }, account, 0);
      await service.app.pool.query("update webhooks set last_error = 'connection refused' where id = ?", [hook.id]);
      await worker.runOnce(); // the notification, stored without SMTP_URL: its text holds the link
      const [[notification]] = await service.app.pool.query<any[]>('select body_text from notifications where webhook_id = ?', [hook.id]);
      const link = /(http\S+\/webhooks\/reactivate\?token=[\w.-]+)/.exec(notification.body_text)![1]!;
      const context = await browser.newContext({ viewport: { width: 375, height: 667 }, bypassCSP: true });
      const page = await context.newPage();
      try {
        await page.goto(link);
        expect(await brokenWords(page)).to.deep.equal([]);
        expect(await page.locator('main').innerText()).to.contain(language === 'de' ? 'Verbindung abgelehnt' : 'connection refused');
        await page.getByRole('button', { name: language === 'de' ? 'URL testen' : 'Test the URL' }).click();
        await page.waitForSelector('#test-result');
        expect(await brokenWords(page)).to.deep.equal([]);
        const tested = await page.locator('main').innerText();
        expect(tested).to.contain(language === 'de'
          ? 'Das gepufferte Ereignis nach der Reaktivierung senden (sonst wird es verworfen)'
          : 'Send the buffered event after reactivation (otherwise it is discarded)');
        await expectAccessible(page, 'the page');
        await page.screenshot({ path: path.join(screenshots, `reactivation-tested-${language}-375.png`), fullPage: true });
        await page.getByLabel(language === 'de' ? /gepufferte Ereignis/ : /buffered event/).check();
        await page.getByRole('button', { name: language === 'de' ? 'Webhook reaktivieren' : 'Reactivate webhook' }).click();
        expect(await page.locator('main').innerText()).to.contain(language === 'de'
          ? 'Das gepufferte Ereignis wird jetzt gesendet, vor allen neueren.'
          : 'The buffered event is being sent now, before any newer ones.');
        expect(await brokenWords(page)).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });

    it(`the Webservicedemo shows its form on the first screen, the answer's types, and messages in its language (${language})`, async () => {
      const account = await makeAccount(service, { language });
      await service.app.webhooks.create(account.id, { app: 'typed', event: 'optin_finalized', url: receiver.url('/typed') });
      const context = await browser.newContext({ viewport: { width: 375, height: 667 }, bypassCSP: true });
      const page = await context.newPage();
      try {
        await page.goto(`${service.baseUrl}/webservicedemo?fn=GetWebHooks&lang=${language}`);
        const username = await page.locator('#p-username').boundingBox();
        expect(username!.y + username!.height, 'the form starts on the first screen').to.be.below(667);
        expect(await brokenWords(page)).to.deep.equal([]);
        await expectAccessible(page, 'the page');
        await page.screenshot({ path: path.join(screenshots, `webservicedemo-${language}-375.png`) });

        await page.locator('#p-username').fill(account.username);
        await page.locator('#p-password').fill(account.password);
        await page.getByRole('button', { name: language === 'de' ? 'Ausführen' : 'Run' }).click();
        const decoded = JSON.parse((await page.locator('#decoded').textContent())!);
        expect(decoded[0]).to.deep.include({ app: 'typed', active: true, failureCount: 0, maxPerSecond: 0 });
        expect(decoded[0].id, 'a number, as JSON answers it').to.be.a('number');

        await page.locator('#p-password').fill('wrong-password');
        await page.getByRole('button', { name: language === 'de' ? 'Ausführen' : 'Run' }).click();
        const result = await page.locator('#result p').first().innerText();
        expect(result).to.equal(language === 'de' ? 'Fehlercode: 1 — Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch' : 'Error code: 1 — authentication failed: wrong username or password');
        expect(await brokenWords(page)).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }
});
