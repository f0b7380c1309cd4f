import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import type { ReactivationService, TestLinkService, TestedView } from '../../services/reactivation.js';
import type { WebHookWithAccount } from '../../storage/webhooksStore.js';
import { escapeHtml, formatUtc, setPageSecurityHeaders } from '../html.js';
import { counted, inLanguage, type Language } from '../i18n.js';
import { hidden, page, testResultBox, webhookFacts } from './linkPages.js';

const texts = {
  reactivateTitle: { en: 'Reactivate webhook', de: 'Webhook reaktivieren' },
  buffered: { en: 'Buffered events', de: 'Gepufferte Ereignisse' },
  bufferedValue: {
    en: (n: number, until: string) => `${n} (new ones are kept until ${until})`,
    de: (n: number, until: string) => `${n} (bis ${until} werden neue gespeichert)`,
  },
  testFirst: {
    en: 'Before the webhook is reactivated, we send its URL a test request, to see whether it answers again.',
    de: 'Bevor der Webhook reaktiviert wird, senden wir seiner URL eine Testanfrage, um zu sehen, ob sie wieder antwortet.',
  },
  testButton: { en: 'Test the URL', de: 'URL testen' },
  replayCheckbox: {
    en: (n: number) => counted.en(n, 'Send the buffered event after reactivation (otherwise it is discarded)', `Send the ${n} buffered events after reactivation (otherwise they are discarded)`),
    de: (n: number) => counted.de(n, 'Das gepufferte Ereignis nach der Reaktivierung senden (sonst wird es verworfen)', `Die ${n} gepufferten Ereignisse nach der Reaktivierung senden (sonst werden sie verworfen)`),
  },
  noneBuffered: { en: 'No events are buffered.', de: 'Es sind keine Ereignisse gepuffert.' },
  reactivateButton: { en: 'Reactivate webhook', de: 'Webhook reaktivieren' },
  testAgain: { en: 'Test again', de: 'Erneut testen' },
  anyway: {
    en: 'I know that the test failed and want to reactivate the webhook all the same',
    de: 'Mir ist bewusst, dass der Test fehlgeschlagen ist, und ich möchte den Webhook trotzdem reaktivieren',
  },
  replayAnyway: {
    en: (n: number) => counted.en(n, 'Send the buffered event all the same: it may fail again and is then buffered anew', `Send the ${n} buffered events all the same: they may fail again and are then buffered anew`),
    de: (n: number) => counted.de(n, 'Das gepufferte Ereignis trotzdem senden: Es kann erneut fehlschlagen und wird dann wieder gepuffert', `Die ${n} gepufferten Ereignisse trotzdem senden: Sie können erneut fehlschlagen und werden dann wieder gepuffert`),
  },
  unconfirmed: {
    en: 'The test failed, and the webhook was not reactivated: please confirm that you want to reactivate it all the same, or test again.',
    de: 'Der Test ist fehlgeschlagen, und der Webhook wurde nicht reaktiviert: Bitte bestätigen Sie, dass Sie ihn trotzdem reaktivieren möchten, oder testen Sie erneut.',
  },
  doneTitle: { en: 'Webhook reactivated', de: 'Webhook reaktiviert' },
  active: { en: (app: string) => `The webhook "${app}" is active again.`, de: (app: string) => `Der Webhook „${app}“ ist wieder aktiv.` },
  replayed: {
    en: (n: number) => counted.en(n, 'The buffered event is being sent now, before any newer ones.', `${n} buffered events are being sent now, before any newer ones.`),
    de: (n: number) => counted.de(n, 'Das gepufferte Ereignis wird jetzt gesendet, vor allen neueren.', `${n} gepufferte Ereignisse werden jetzt gesendet, vor allen neueren.`),
  },
  discarded: {
    en: 'Buffered events were discarded; new events are sent from now on.',
    de: 'Gepufferte Ereignisse wurden verworfen; neue Ereignisse werden ab jetzt gesendet.',
  },
  testTitle: { en: 'Test webhook', de: 'Webhook testen' },
  testIntro: {
    en: "This webhook's URL failed repeatedly. Once you have fixed it, send it a test request: you see its answer here at once.",
    de: 'Die URL dieses Webhooks ist wiederholt fehlgeschlagen. Wenn Sie den Fehler behoben haben, senden Sie ihr eine Testanfrage: Sie sehen die Antwort sofort hier.',
  },
  testNow: { en: 'Test the URL now', de: 'URL jetzt testen' },
  passedActive: {
    en: 'The webhook is active: its waiting events go out with its next attempt.',
    de: 'Der Webhook ist aktiv: Seine wartenden Ereignisse gehen mit dem nächsten Versuch hinaus.',
  },
};

const invalidPage = page(
  'en',
  'Link no longer valid / Link nicht mehr gültig',
  `<h1>This link is no longer valid</h1>
<p>It may have been used already, it may have expired, or the webhook was reactivated or deleted in the meantime.
You can list your webhooks and reactivate or test them through the webservice (GetWebHooks, ActivateWebHook, TestWebHook).</p>
<h1 lang="de">Dieser Link ist nicht mehr gültig</h1>
<p lang="de">Vielleicht wurde er schon benutzt, ist abgelaufen, oder der Webhook wurde inzwischen reaktiviert oder gelöscht.
Über den Webservice können Sie Ihre Webhooks anzeigen, reaktivieren und testen (GetWebHooks, ActivateWebHook, TestWebHook).</p>`,
);

const checkbox = (name: string, label: string, checked = false) =>
  `<label><input type="checkbox" name="${name}" value="1"${checked ? ' checked' : ''}> ${escapeHtml(label)}</label>`;

/**
 * GET /webhooks/reactivate shows the deactivated webhook and a button that
 * tests its URL; the test's page offers reactivation beside its result (after
 * a failed test only with a second confirmation, and a replay only when the
 * customer insists). GET /webhooks/test and its POST: the warning e-mail's
 * test. A GET never changes or sends anything: mail scanners fetch links.
 */
export function reactivationPage(reactivation: ReactivationService, tests: TestLinkService, log: Logger, options: { timeoutSeconds: number }): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });
  const fields = (req: Request) => (name: string) => (typeof req.body?.[name] === 'string' ? (req.body[name] as string) : '');

  const bufferedFacts = (webhook: WebHookWithAccount, bufferUntil: Date, language: Language): Array<[string, string]> => {
    const t = inLanguage(texts, language);
    return [[t.buffered, t.bufferedValue(webhook.bufferedEvents, formatUtc(bufferUntil, language))]];
  };

  function testForm(token: string, csrf: string, replay: boolean, label: string, secondary = false): string {
    return `<form method="post" action="/webhooks/reactivate">${hidden('token', token)}${hidden('csrf', csrf)}${hidden('action', 'test')}${replay ? hidden('replay', '1') : ''}
<button type="submit"${secondary ? ' class="secondary"' : ''}>${escapeHtml(label)}</button></form>`;
  }

  function testedPage(token: string, view: Extract<TestedView, { state: 'tested' }>, replay: boolean, notice = ''): string {
    const { webhook } = view;
    const t = inLanguage(texts, webhook.language);
    const n = webhook.bufferedEvents;
    const passed = view.result === 'passed';
    const choices = passed
      ? (n > 0 ? checkbox('replay', t.replayCheckbox(n), replay) : `<p>${escapeHtml(t.noneBuffered)}</p>`)
      : checkbox('reactivateAnyway', t.anyway) + (n > 0 ? hidden('replay', '1') + checkbox('replayAnyway', t.replayAnyway(n)) : '');
    return page(webhook.language, t.reactivateTitle, `<h1>${escapeHtml(t.reactivateTitle)}</h1>
${webhookFacts(webhook, webhook.language, bufferedFacts(webhook, view.bufferUntil, webhook.language))}
${testResultBox(view.test, webhook.language, options.timeoutSeconds)}
${notice}
<form method="post" action="/webhooks/reactivate">
${hidden('token', token)}${hidden('csrf', view.csrf)}${hidden('action', 'reactivate')}${hidden('result', view.result)}${hidden('proof', view.proof)}
${choices}
<button type="submit">${escapeHtml(t.reactivateButton)}</button>
</form>
${testForm(token, view.csrf, replay, t.testAgain, true)}`);
  }

  router.get('/webhooks/reactivate', async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const view = await reactivation.inspect(token);
    if (view.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
    const { webhook } = view;
    const t = inLanguage(texts, webhook.language);
    res.type('html').send(page(webhook.language, t.reactivateTitle, `<h1>${escapeHtml(t.reactivateTitle)}</h1>
${webhookFacts(webhook, webhook.language, bufferedFacts(webhook, view.bufferUntil, webhook.language))}
<p class="note">${escapeHtml(t.testFirst)}</p>
${testForm(token, view.csrf, req.query.replay === '1', t.testButton)}`));
  });

  router.post('/webhooks/reactivate', form, async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const field = fields(req);
    const token = field('token');
    const replay = field('replay') === '1';
    if (field('action') === 'test') {
      const view = await reactivation.test(token, field('csrf'));
      if (view.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
      res.type('html').send(testedPage(token, view, replay));
      return;
    }
    const result = await reactivation.confirm(token, {
      csrf: field('csrf'), replay, result: field('result'), proof: field('proof'),
      reactivateAnyway: field('reactivateAnyway') === '1', replayAnyway: field('replayAnyway') === '1',
    });
    if (result.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
    if (result.state === 'unconfirmed') {
      const view = await reactivation.inspect(token);
      if (view.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
      const t = inLanguage(texts, view.webhook.language);
      res.status(422).type('html').send(page(view.webhook.language, t.reactivateTitle, `<h1>${escapeHtml(t.reactivateTitle)}</h1>
<p class="bad" role="alert">${escapeHtml(t.unconfirmed)}</p>
${webhookFacts(view.webhook, view.webhook.language)}
${testForm(token, view.csrf, replay, t.testAgain)}`));
      return;
    }
    const { webhook, replayedEvents } = result;
    const t = inLanguage(texts, webhook.language);
    log.info({ webhook: webhook.id, replayedEvents, via: 'link' }, 'webhook reactivated');
    res.type('html').send(page(webhook.language, t.doneTitle, `<h1>${escapeHtml(t.doneTitle)}</h1>
<p class="ok">${escapeHtml(t.active(webhook.app))} ${escapeHtml(replayedEvents > 0 ? t.replayed(replayedEvents) : t.discarded)}</p>
${webhookFacts({ ...webhook, deactivatedAt: null, lastError: null }, webhook.language)}`));
  });

  router.get('/webhooks/test', async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const view = await tests.inspect(token);
    if (view.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
    const t = inLanguage(texts, view.webhook.language);
    res.type('html').send(page(view.webhook.language, t.testTitle, `<h1>${escapeHtml(t.testTitle)}</h1>
<p>${escapeHtml(t.testIntro)}</p>
${webhookFacts(view.webhook, view.webhook.language)}
<form method="post" action="/webhooks/test">${hidden('token', token)}${hidden('csrf', view.csrf)}<button type="submit">${escapeHtml(t.testNow)}</button></form>`));
  });

  router.post('/webhooks/test', form, async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const field = fields(req);
    const token = field('token');
    const result = await tests.run(token, field('csrf'));
    if (result.state === 'invalid') return void res.status(404).type('html').send(invalidPage);
    const { webhook } = result;
    const t = inLanguage(texts, webhook.language);
    const passed = result.test.kind === 'answered' && result.test.outcome.succeeded;
    res.type('html').send(page(webhook.language, t.testTitle, `<h1>${escapeHtml(t.testTitle)}</h1>
${webhookFacts(webhook, webhook.language)}
${testResultBox(result.test, webhook.language, options.timeoutSeconds)}
${passed && webhook.active ? `<p>${escapeHtml(t.passedActive)}</p>` : ''}
<form method="post" action="/webhooks/test">${hidden('token', token)}${hidden('csrf', result.csrf)}<button type="submit" class="secondary">${escapeHtml(t.testAgain)}</button></form>`));
  });
  return router;
}
