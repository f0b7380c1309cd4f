import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import type { ReactivationService } from '../../services/reactivation.js';
import type { WebHookWithAccount } from '../../storage/webhooksStore.js';
import { escapeHtml, formatUtc, setPageSecurityHeaders, type Language } from '../html.js';


function page(language: Language, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{margin:0;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;color:#222;line-height:1.5}
main{max-width:640px;margin:40px auto;background:#fff;border-radius:6px;padding:24px 28px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:22px;margin:0 0 16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:16px 0}
dt{color:#555}dd{margin:0;word-break:break-all}
.note{background:#fff8e1;border-left:4px solid #e5a50a;padding:8px 12px;margin:16px 0}
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:8px 12px;margin:16px 0}
label{display:block;margin:16px 0}
button{background:#1a5fb4;color:#fff;border:0;border-radius:4px;padding:12px 20px;font-size:16px;font-weight:bold;cursor:pointer}
button:focus{outline:3px solid #99c1f1;outline-offset:2px}
</style></head><body><main>
${body}
</main></body></html>`;
}

function details(webhook: WebHookWithAccount, language: Language, extra: Array<[string, string]> = []): string {
  const de = language === 'de';
  const rows: Array<[string, string]> = [
    [de ? 'Name (app)' : 'Name (app)', webhook.app],
    [de ? 'Ereignis' : 'Event', webhook.event],
    ['URL', webhook.url],
    ...(webhook.deactivatedAt ? [[de ? 'Deaktiviert am' : 'Deactivated on', formatUtc(webhook.deactivatedAt, language)] as [string, string]] : []),
    ...(webhook.lastError ? [[de ? 'Letzter Fehler' : 'Last error', webhook.lastError] as [string, string]] : []),
    ...extra,
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

const invalidPage = page(
  'en',
  'Link no longer valid / Link nicht mehr gültig',
  `<h1>This link is no longer valid</h1>
<p>It may have been used already, it may have expired, or the webhook was reactivated or deleted in the meantime.
You can list your webhooks and reactivate them through the webservice (GetWebHooks, ActivateWebHook).</p>
<h1 lang="de">Dieser Link ist nicht mehr gültig</h1>
<p lang="de">Vielleicht wurde er schon benutzt, ist abgelaufen, oder der Webhook wurde inzwischen reaktiviert oder gelöscht.
Über den Webservice können Sie Ihre Webhooks anzeigen und reaktivieren (GetWebHooks, ActivateWebHook).</p>`,
);

/** GET shows the deactivated webhook and one button; only the POST (with its CSRF value) reactivates. */
export function reactivationPage(service: ReactivationService, log: Logger): Router {
  const router = express.Router();

  router.get('/webhooks/reactivate', async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const view = await service.inspect(token);
    if (view.state === 'invalid') {
      res.status(404).type('html').send(invalidPage);
      return;
    }
    const { webhook } = view;
    const language = webhook.language;
    const de = language === 'de';
    const n = webhook.bufferedEvents;
    const replayChecked = req.query.replay === '1';
    const buffered = de ? `${n} (bis ${formatUtc(view.bufferUntil, language)} werden neue gespeichert)` : `${n} (new ones are kept until ${formatUtc(view.bufferUntil, language)})`;
    const choice = n > 0
      ? `<label><input type="checkbox" name="replay" value="1"${replayChecked ? ' checked' : ''}> ${escapeHtml(de ? `Die ${n} gepufferten Ereignisse nach der Reaktivierung senden (sonst werden sie verworfen)` : `Send the ${n} buffered events after reactivation (otherwise they are discarded)`)}</label>`
      : `<p>${escapeHtml(de ? 'Es sind keine Ereignisse gepuffert.' : 'No events are buffered.')}</p>`;
    res.type('html').send(
      page(
        language,
        de ? 'Webhook reaktivieren' : 'Reactivate webhook',
        `<h1>${escapeHtml(de ? 'Webhook reaktivieren' : 'Reactivate webhook')}</h1>
${details(webhook, language, [[de ? 'Gepufferte Ereignisse' : 'Buffered events', buffered]])}
<p class="note">${escapeHtml(de ? 'Bitte stellen Sie vor der Reaktivierung sicher, dass die URL wieder erreichbar ist.' : 'Please make sure that the URL answers again before you reactivate the webhook.')}</p>
<form method="post" action="/webhooks/reactivate">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
${choice}
<button type="submit">${escapeHtml(de ? 'Webhook reaktivieren' : 'Reactivate webhook')}</button>
</form>`,
      ),
    );
  });

  router.post('/webhooks/reactivate', express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: false });
    const field = (name: string) => (typeof req.body?.[name] === 'string' ? (req.body[name] as string) : '');
    const result = await service.confirm(field('token'), field('csrf'), field('replay') === '1');
    if (result.state === 'invalid') {
      res.status(404).type('html').send(invalidPage);
      return;
    }
    const { webhook, replayedEvents } = result;
    const de = webhook.language === 'de';
    log.info({ webhook: webhook.id, replayedEvents, via: 'link' }, 'webhook reactivated');
    const outcome = replayedEvents > 0
      ? (de ? `${replayedEvents} gepufferte Ereignisse werden jetzt gesendet, vor allen neueren.` : `${replayedEvents} buffered events are being sent now, before any newer ones.`)
      : (de ? 'Gepufferte Ereignisse wurden verworfen; neue Ereignisse werden ab jetzt gesendet.' : 'Buffered events were discarded; new events are sent from now on.');
    res.type('html').send(
      page(
        webhook.language,
        de ? 'Webhook reaktiviert' : 'Webhook reactivated',
        `<h1>${escapeHtml(de ? 'Webhook reaktiviert' : 'Webhook reactivated')}</h1>
<p class="ok">${escapeHtml(de ? `Der Webhook „${webhook.app}“ ist wieder aktiv.` : `The webhook "${webhook.app}" is active again.`)} ${escapeHtml(outcome)}</p>
${details({ ...webhook, deactivatedAt: null, lastError: null }, webhook.language)}`,
      ),
    );
  });
  return router;
}
