import { expect } from 'chai';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { expectAccessible, launchChromium, screenshots } from './helpers/browser.js';
import { jsonClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

/** The customer portal in a real browser: sign-in by link, every page and action, its safety. */
describe('the customer portal', function () {
  this.timeout(90_000);
  let service: RunningService;
  let receiver: TestReceiver;
  let browser: Browser;

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', RETRY_SCHEDULE: '60', DEACTIVATE_AFTER_FAILURES: '2', CIRCUIT_AFTER_FAILURES: '1' });
    receiver = await new TestReceiver().start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await receiver.stop();
    await service.stop();
  });

  const linkFor = async (account: TestAccount, extra: Record<string, unknown> = {}) =>
    (await jsonClient(service.baseUrl).call('GetPortalLink', { username: account.username, password: account.password, ...extra })).result as string;

  // The scripts it injects (axe) are the test's, not the page's: the page's own CSP stays as it is for everything else.
  const context = (width: number): Promise<BrowserContext> => browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });

  for (const [language, width] of [['en', 1100], ['de', 375]] as const) {
    it(`lets a customer see and fix a failing webhook (${language}, ${width} px)`, async () => {
      const account = await makeAccount(service, { language });
      const failing = await service.app.webhooks.create(account.id, { app: 'crm', event: 'optin_finalized', url: receiver.url(`/portal-${account.username}`) });
      receiver.reply = () => ({ status: 422, body: '{"error": "field 3 is not a date"}' });
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber: 'max', payload: { subscriber_id: 'max', fields: [{ id: 3, value: 'tomorrow' }] } }]);
      const worker = service.app.createWorker();
      await worker.runOnce();
      const ctx = await context(width);
      const page = await ctx.newPage();
      const shot = (name: string) => page.screenshot({ path: path.join(screenshots, `portal-${name}-${language}.png`), fullPage: true });
      try {
        const link = await linkFor(account);
        await page.goto(link);
        expect(new URL(page.url()).pathname, 'signed in, the token gone from the address').to.equal('/portal');
        expect(await page.getAttribute('html', 'lang')).to.equal(language);
        const [cookie] = await ctx.cookies();
        expect(cookie).to.deep.include({ name: 'portal_session', httpOnly: true, sameSite: 'Lax', secure: false, path: '/portal' });
        expect(await page.locator('tbody tr').count()).to.equal(1);
        await shot('webhooks');
        await expectAccessible(page, 'the list');

        // The second use of the link signs nobody in.
        const again = await ctx.newPage();
        const second = await again.goto(link);
        expect(second!.status()).to.equal(404);
        await expectAccessible(again, 'the page of a used link');

        // Create one, then delete it after a confirmation.
        await page.getByLabel('Name (app)').fill('newsletter-tool');
        await page.getByLabel(language === 'de' ? 'Ereignis' : 'Event').selectOption('optout_finalized');
        await page.getByLabel('URL').fill(receiver.url('/created'));
        await page.getByLabel(language === 'de' ? /Anfragen pro Sekunde/ : /requests per second/).fill('20');
        await page.getByRole('button', { name: language === 'de' ? 'Anlegen' : 'Create' }).click();
        expect(page.url()).to.match(/\/portal\/webhooks\/\d+$/);
        expect((await service.app.webhooks.list(account.id, {})).find((w) => w.app === 'newsletter-tool')).to.deep.include({ maxPerSecond: 20 });
        await page.getByRole('link', { name: language === 'de' ? 'Diesen Webhook löschen' : 'Delete this webhook' }).click();
        await expectAccessible(page, 'the confirmation');
        await page.getByRole('button', { name: language === 'de' ? 'Löschen' : 'Delete' }).click();
        expect(new URL(page.url()).pathname).to.equal('/portal');
        expect((await service.app.webhooks.list(account.id, {})).map((w) => w.app)).to.deep.equal(['crm']);

        // The failing webhook: its log, the failed delivery with the answer, the payload.
        await page.getByRole('link', { name: 'crm' }).click();
        await shot('webhook');
        await expectAccessible(page, 'the webhook page');
        await page.getByLabel(language === 'de' ? 'Abonnentenschlüssel' : 'Subscriber key').fill('max');
        await page.getByRole('button', { name: language === 'de' ? 'Filtern' : 'Filter' }).click();
        expect(await page.locator('tbody tr').count()).to.equal(1);
        await page.locator('tbody a').first().click();
        expect(await page.locator('pre').first().textContent()).to.equal('{"error": "field 3 is not a date"}');
        expect(await page.locator('pre').last().textContent()).to.contain('tomorrow');
        await shot('delivery');
        await expectAccessible(page, 'the delivery page');

        // The receiver is fixed; the webhook went down meanwhile: test, reactivate with replay.
        await service.app.pool.query('update webhooks set active = 0, deactivated_at = utc_timestamp(3), due_at = null where id = ?', [failing.id]);
        await service.app.pool.query("update deliveries set status = 'buffered' where webhook_id = ?", [failing.id]);
        receiver.reply = () => ({ status: 200 });
        await page.goto(`${service.baseUrl}/portal/webhooks/${failing.id}`);
        await page.getByRole('button', { name: language === 'de' ? 'URL jetzt testen' : 'Test the URL now' }).click();
        await page.waitForSelector('#test-result.ok');
        await page.getByRole('button', { name: language === 'de' ? 'Reaktivieren' : 'Reactivate' }).click();
        await page.waitForSelector('p.ok');
        receiver.receipts.length = 0;
        await worker.runOnce();
        expect(receiver.receipts.map((r) => JSON.parse(r.body).subscriber_id)).to.deep.equal(['max']);

        // Resend the delivered one; recover since yesterday finds nothing failed.
        await page.locator('tbody a').first().click();
        await page.getByRole('button', { name: language === 'de' ? 'Erneut senden' : 'Send it again' }).click();
        await page.waitForSelector('p.ok');
        receiver.receipts.length = 0;
        await worker.runOnce();
        expect(receiver.receipts).to.have.length(1);
        await page.goto(`${service.baseUrl}/portal/webhooks/${failing.id}`);
        await page.getByRole('button', { name: language === 'de' ? 'Nachholen' : 'Recover' }).click();
        expect(await page.locator('p.ok').textContent()).to.match(/^0 /);

        // A new secret, shown once.
        const before = (await service.app.webhooks.list(account.id, {}))[0]!.secret;
        await page.getByRole('button', { name: language === 'de' ? 'Schlüssel erneuern' : 'Rotate the secret' }).click();
        const secret = await page.locator('#new-secret').textContent();
        expect(secret).to.match(/^whsec_/).and.not.equal(before);
        await shot('rotated');
        await page.goto(`${service.baseUrl}/portal/webhooks/${failing.id}`);
        expect(await page.locator('#new-secret').count(), 'shown once').to.equal(0);
        expect(await page.content()).not.to.contain(secret!);
        await page.getByRole('button', { name: language === 'de' ? 'Abmelden' : 'Sign out' }).click();
        await page.waitForSelector('p.ok');
        await expectAccessible(page, 'the signed-out page');
        expect((await page.goto(`${service.baseUrl}/portal`))!.status(), 'the session is over').to.equal(401);
        await expectAccessible(page, 'the page without a session');
      } finally {
        await ctx.close();
      }
    });
  }

  for (const [language, width] of [['de', 375], ['en', 375], ['de', 1100], ['en', 1100]] as const) {
    it(`changes a webhook in place, its headers by name, and reads at ${width} px without breaking words (${language})`, async () => {
      const account = await makeAccount(service, { language });
      const webhook = await service.app.webhooks.create(account.id, {
        app: 'crm', event: 'profilemanager_finalized', url: receiver.url(`/edit-${account.username}`), headers: [{ name: 'Authorization', value: 'Bearer hidden-value' }],
      });
      let calls = 0;
      receiver.reply = () => (calls++ === 0 ? { status: 500 } : { status: 200 });
      await service.app.intake.accept([{ account: account.username, event: 'profilemanager_finalized', subscriber: 'opt_in_finalized_subscriber', payload: { n: 1, nested: { a: [1, 2] } } }]);
      const worker = service.app.createWorker();
      await worker.runOnce();
      await service.app.pool.query('update deliveries set retry_at = null where webhook_id = ?', [webhook.id]);
      await service.app.pool.query('update webhooks set lane_retry_at = null, due_at = utc_timestamp(3), circuit_open = 0 where id = ?', [webhook.id]);
      await worker.runOnce();
      const ctx = await context(width);
      const page = await ctx.newPage();
      const shot = (name: string) => page.screenshot({ path: path.join(screenshots, `portal-${name}-${language}-${width}.png`), fullPage: true });
      /** Cells whose content box is narrower than one of their words (what squeezed columns do to text). */
      const brokenWords = () => page.evaluate(() => {
        const context2d = document.createElement('canvas').getContext('2d')!;
        const problems: string[] = [];
        if (document.documentElement.scrollWidth > window.innerWidth) problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
        for (const cell of Array.from(document.querySelectorAll('td, th, dt, dd'))) {
          if (cell.getBoundingClientRect().width < 2) continue; // a visually hidden heading, read by screen readers
          const style = getComputedStyle(cell);
          context2d.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          // A URL is no word: it breaks where it must (class url), as an address bar does.
          const text = cell.cloneNode(true) as Element;
          text.querySelectorAll('.url').forEach((url) => url.remove());
          for (const word of (text.textContent ?? '').split(/\s+/)) {
            if (word && context2d.measureText(word).width > room + 0.5) problems.push(`"${word}" in ${Math.round(room)} px`);
          }
        }
        return problems;
      });
      try {
        await page.goto(await linkFor(account, { webhookId: webhook.id }));
        expect(await brokenWords(), 'the webhook page').to.deep.equal([]);
        const delivered = page.locator('tbody tr', { hasText: 'delivered' });
        expect(await delivered.locator('td').last().textContent(), 'a delivered row shows no error').to.equal('');
        expect(await page.content()).to.contain('Authorization').and.not.to.contain('hidden-value');
        expect(await page.getByRole('heading', { level: 2 }).first().textContent(), 'a healthy webhook has nothing to fix').to.equal(language === 'de' ? 'Verwalten' : 'Manage');
        expect(await page.locator('label[for=since]').textContent(), 'the recover field\'s own label').to.equal(language === 'de' ? 'Seit (UTC)' : 'Since (UTC)');
        await shot('webhook');
        await page.locator('tbody a').first().click();
        expect(await page.locator('pre').last().textContent(), 'the payload indented').to.equal(JSON.stringify({ n: 1, nested: { a: [1, 2] } }, null, 2));
        expect(await brokenWords(), 'the delivery page').to.deep.equal([]);
        await page.goto(`${service.baseUrl}/portal`);
        expect(await brokenWords(), 'the list').to.deep.equal([]);
        await shot('webhooks');

        await page.goto(`${service.baseUrl}/portal/webhooks/${webhook.id}`);
        await page.getByRole('link', { name: language === 'de' ? 'Name, URL, Drosselung oder Header ändern' : 'Change name, URL, throttle or headers' }).click();
        await expectAccessible(page, 'the edit page');
        expect(await page.content()).not.to.contain('hidden-value');
        await shot('edit');
        const newUrl = receiver.url(`/moved-${account.username}`);
        await page.getByLabel('Name (app)').fill('crm (moved)');
        await page.getByLabel('URL', { exact: true }).fill(newUrl);
        await page.getByLabel(language === 'de' ? /Anfragen pro Sekunde/ : /requests per second/).fill('10');
        await page.locator('#header-name-1').fill('Host');
        await page.locator('#header-value-1').fill('evil.example');
        await page.getByRole('button', { name: language === 'de' ? 'Speichern' : 'Save' }).click();
        expect(await page.locator('p.bad').textContent(), 'a reserved name refused').to.contain("'Host'");
        expect((await service.app.webhooks.get(account.id, webhook.id)).app, 'nothing stored').to.equal('crm');
        await page.locator('#header-name-1').fill('X-Tenant');
        await page.locator('#header-value-1').fill('north');
        await page.getByRole('button', { name: language === 'de' ? 'Speichern' : 'Save' }).click();
        await page.waitForSelector('p.ok');
        const [[row]] = await service.app.pool.query<any[]>('select app, url, max_per_second, custom_headers, secret from webhooks where id = ?', [webhook.id]);
        expect(row).to.include({ app: 'crm (moved)', url: newUrl, max_per_second: 10, secret: webhook.secret });
        expect(JSON.parse(row.custom_headers)).to.deep.equal([{ name: 'Authorization', value: 'Bearer hidden-value' }, { name: 'X-Tenant', value: 'north' }]);
        expect(await page.content()).not.to.contain('hidden-value').and.not.to.contain('north');

        // The language switch keeps the page.
        const path = new URL(page.url()).pathname;
        await page.getByRole('button', { name: language === 'de' ? 'English' : 'Deutsch' }).click();
        expect(await page.getAttribute('html', 'lang')).to.equal(language === 'de' ? 'en' : 'de');
        expect(new URL(page.url()).pathname).to.equal(path);
        await expectAccessible(page, 'the page in the other language');
      } finally {
        await ctx.close();
      }
    });
  }

  it('can be used by keyboard alone: Tab to the form, type, Enter', async () => {
    const account = await makeAccount(service);
    const ctx = await context(1100);
    const page = await ctx.newPage();
    try {
      await page.goto(await linkFor(account));
      const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
      for (let presses = 0; presses < 30 && (await focused()) !== 'app'; presses += 1) await page.keyboard.press('Tab');
      expect(await focused(), 'the first field is reached by Tab').to.equal('app');
      await page.keyboard.type('by keyboard');
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowDown'); // optout_finalized
      await page.keyboard.press('Tab');
      await page.keyboard.type(receiver.url('/keyboard'));
      await Promise.all([page.waitForURL(/\/portal\/webhooks\/\d+$/), page.keyboard.press('Enter')]);
      const [created] = await service.app.webhooks.list(account.id, {});
      expect(created).to.deep.include({ app: 'by keyboard', event: 'optout_finalized' });
    } finally {
      await ctx.close();
    }
  });

  it('keeps a session to its account, refuses a form without its CSRF token, and may not be framed', async () => {
    const owner = await makeAccount(service);
    const other = await makeAccount(service);
    const foreign = await service.app.webhooks.create(other.id, { app: 'theirs', event: 'optin_finalized', url: receiver.url('/theirs') });
    const signIn = await fetch(await linkFor(owner), { redirect: 'manual' });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const theirs = await fetch(`${service.baseUrl}/portal/webhooks/${foreign.id}`, { headers: { cookie } });
    expect(theirs.status, "another account's webhook").to.equal(404);
    expect(await theirs.text()).not.to.contain('theirs');
    const forged = await fetch(`${service.baseUrl}/portal/webhooks`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ app: 'forged', event: 'optin_finalized', url: receiver.url('/forged') }),
    });
    expect(forged.status).to.equal(403);
    expect((await service.app.webhooks.list(owner.id, {})).length).to.equal(0);
    const list = await fetch(`${service.baseUrl}/portal`, { headers: { cookie } });
    expect(list.headers.get('content-security-policy')).to.contain("frame-ancestors 'none'").and.contain("default-src 'none'");
    expect(list.headers.get('x-frame-options')).to.equal('DENY');
    expect(list.headers.get('referrer-policy')).to.equal('no-referrer');
    expect((await fetch(`${service.baseUrl}/portal`)).status, 'without a session').to.equal(401);
    // GetPortalLink names only the account's own webhooks.
    expect((await jsonClient(service.baseUrl).call('GetPortalLink', { username: owner.username, password: owner.password, webhookId: foreign.id })).error).to.equal(4);
    expect((await jsonClient(service.baseUrl).call('GetPortalLink', { username: owner.username, password: owner.password, language: 'fr' })).error).to.equal(3);
  });

  it('ends a session after PORTAL_SESSION_MINUTES of inactivity, and a link after PORTAL_LINK_MINUTES', async () => {
    const { ManualClock } = await import('./helpers/service.js');
    const clock = new ManualClock('2026-03-01T08:00:00Z');
    const timed = await startService({ PORTAL_SESSION_MINUTES: '30', PORTAL_LINK_MINUTES: '10' }, { clock });
    try {
      const account = await makeAccount(timed);
      const client = jsonClient(timed.baseUrl);
      const link = async () => (await client.call('GetPortalLink', { username: account.username, password: account.password })).result as string;
      const stale = await link();
      clock.advance(11 * 60_000);
      expect((await fetch(stale, { redirect: 'manual' })).status, 'the link expired').to.equal(404);
      const cookie = (await fetch(await link(), { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
      clock.advance(29 * 60_000);
      expect((await fetch(`${timed.baseUrl}/portal`, { headers: { cookie } })).status, 'used within the idle time').to.equal(200);
      clock.advance(29 * 60_000);
      expect((await fetch(`${timed.baseUrl}/portal`, { headers: { cookie } })).status, 'still, the use moved the idle time').to.equal(200);
      clock.advance(31 * 60_000);
      expect((await fetch(`${timed.baseUrl}/portal`, { headers: { cookie } })).status, 'idle too long').to.equal(401);
    } finally {
      await timed.stop();
    }
  });

  it('may be framed by the origins PORTAL_FRAME_ANCESTORS names, and marks its cookie Secure under https', async () => {
    const framed = await startService({ PORTAL_FRAME_ANCESTORS: 'https://app.example.com', PUBLIC_URL: 'https://webhooks.example.com' });
    try {
      const account = await makeAccount(framed);
      const link = (await jsonClient(framed.baseUrl).call('GetPortalLink', { username: account.username, password: account.password })).result as string;
      expect(link).to.match(/^https:\/\/webhooks\.example\.com\/portal\/signin\?token=/);
      const signIn = await fetch(link.replace('https://webhooks.example.com', framed.baseUrl), { redirect: 'manual' });
      expect(signIn.headers.get('set-cookie')).to.match(/; Secure$/);
      expect(signIn.headers.get('content-security-policy')).to.contain('frame-ancestors https://app.example.com');
      expect(signIn.headers.get('x-frame-options')).to.equal(null);
    } finally {
      await framed.stop();
    }
  });
});
