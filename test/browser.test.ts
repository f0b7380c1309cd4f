import { expect } from 'chai';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { jsonClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { deactivatedWebhook, reactivationLinksOf } from './helpers/scenarios.js';
import { makeAccount, ManualClock, startService, type RunningService } from './helpers/service.js';
import { SmtpSink } from './helpers/smtpSink.js';

// UPDATE_SCREENSHOTS=1 writes the pictures to docs/screenshots/ for people to see.
const screenshots = process.env.UPDATE_SCREENSHOTS === '1' ? path.resolve('docs/screenshots') : mkdtempSync(path.join(tmpdir(), 'screenshots-'));
mkdirSync(screenshots, { recursive: true });

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

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
      const checkbox = page.locator('input[name="replay"]');
      expect(await checkbox.isChecked()).to.equal(true);
      await page.screenshot({ path: path.join(screenshots, `reactivation-page-${language}.png`), fullPage: true });
      receiver.receipts.length = 0;
      await page.getByRole('button').click();
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
