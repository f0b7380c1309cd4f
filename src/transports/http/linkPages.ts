import type { WebHookWithAccount } from '../../storage/webhooksStore.js';
import type { PageTest } from '../../services/reactivation.js';
import { errorText, failureName, hintFor } from '../failureTexts.js';
import { escapeHtml, formatUtc } from '../html.js';
import { inLanguage, type Language } from '../i18n.js';

// The portal's pages are wider and have tables, a header and notices of their own.
const wideStyle = `main{max-width:1040px}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:8px;border-bottom:1px solid #ddd;margin:-8px 0 16px;padding-bottom:8px}
header a,header button{font-size:14px}
table{border-collapse:collapse;width:100%;margin:12px 0;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e0e0e0;vertical-align:top;overflow-wrap:break-word}
.url{overflow-wrap:anywhere}
fieldset.header{border:1px solid #ddd;border-radius:4px;margin:8px 0;padding:4px 12px}fieldset.header legend{color:#555;font-size:14px}
th{background:#f4f4f4}
input[type=url]{width:100%}
input[type=text],input[type=url],input[type=number],input[type=datetime-local],select{font-size:16px;padding:8px;border:1px solid #767676;border-radius:4px;max-width:100%;box-sizing:border-box}
label.field{display:block;margin:8px 0}label.field span{display:block;font-weight:bold;margin-bottom:4px}
form.inline{display:inline}
section{margin:24px 0}h2{font-size:18px;margin:0 0 8px}
pre{background:#f4f4f4;padding:12px;white-space:pre-wrap;word-break:break-all;font-size:13px}
a{color:#1a5fb4}a:focus,input:focus,select:focus{outline:3px solid #99c1f1;outline-offset:2px}
.secret{font-family:monospace;font-size:15px;background:#e8f5e9;padding:8px;word-break:break-all}
@media (max-width:600px){main{margin:0;border-radius:0;padding:16px}table{display:block;overflow-x:auto}
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block}
table.rows thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.rows tr{border:1px solid #e0e0e0;border-radius:4px;margin:0 0 12px;padding:4px 0}
table.rows td{border:0;padding:2px 10px}table.rows td:empty{display:none}
table.rows td::before{content:attr(data-label);display:block;font-weight:bold;color:#555;font-size:13px}}`;

/** A form's hidden field, its value escaped. */
export const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

/** The frame of the pages behind e-mail links and of the portal: no scripts, no external assets. */
export function page(language: Language, title: string, body: string, options: { wide?: boolean } = {}): string {
  return `<!DOCTYPE html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{margin:0;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;color:#222;line-height:1.5}
main{max-width:640px;margin:40px auto;background:#fff;border-radius:6px;padding:24px 28px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:22px;margin:0 0 16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:16px 0}
code{white-space:nowrap}dt{color:#555}dd{margin:0;overflow-wrap:anywhere}
@media (max-width:600px){dl{display:block}dt{margin-top:8px}}
.note{background:#fff8e1;border-left:4px solid #e5a50a;padding:8px 12px;margin:16px 0}
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:8px 12px;margin:16px 0}
.bad{background:#fdecea;border-left:4px solid #c01c28;padding:8px 12px;margin:16px 0}
label{display:block;margin:16px 0}
button{background:#1a5fb4;color:#fff;border:0;border-radius:4px;padding:12px 20px;font-size:16px;font-weight:bold;cursor:pointer;margin:0 8px 8px 0}
button.secondary{background:#fff;color:#1a5fb4;border:1px solid #1a5fb4}
button:focus{outline:3px solid #99c1f1;outline-offset:2px}
${options.wide ? wideStyle : ''}
</style></head><body><main>
${body}
</main></body></html>`;
}

const texts = {
  app: { en: 'Name (app)', de: 'Name (app)' },
  event: { en: 'Event', de: 'Ereignis' },
  state: { en: 'State', de: 'Zustand' },
  active: { en: 'active', de: 'aktiv' },
  deactivated: { en: 'deactivated', de: 'deaktiviert' },
  deactivatedOn: { en: 'Deactivated on', de: 'Deaktiviert am' },
  lastError: { en: 'Last error', de: 'Letzter Fehler' },
  passed: {
    en: (status: number, ms: number) => `The test passed: your server answered HTTP ${status} in ${ms} ms.`,
    de: (status: number, ms: number) => `Der Test war erfolgreich: Ihr Server hat in ${ms} ms mit HTTP ${status} geantwortet.`,
  },
  failed: { en: 'The test failed', de: 'Der Test ist fehlgeschlagen' },
  limited: {
    en: 'The URL was tested several times just now; please wait a minute before the next test.',
    de: 'Die URL wurde gerade mehrmals getestet; bitte warten Sie eine Minute bis zum nächsten Test.',
  },
  sent: {
    en: 'We sent a signed POST request with the event webhook_test (header X-Webhook-Event) to the URL.',
    de: 'Wir haben eine signierte POST-Anfrage mit dem Ereignis webhook_test (Header X-Webhook-Event) an die URL gesendet.',
  },
};

/** What a test request is; names of the protocol as code, so that a line never breaks inside one. */
function sentText(language: Language): string {
  return escapeHtml(inLanguage(texts, language).sent).replace(/webhook_test|X-Webhook-Event/g, (name) => `<code>${name}</code>`);
}

/** The webhook's facts, plus any the page adds. */
export function webhookFacts(webhook: WebHookWithAccount, language: Language, extra: Array<[string, string]> = []): string {
  const t = inLanguage(texts, language);
  const rows: Array<[string, string]> = [
    [t.app, webhook.app],
    [t.event, webhook.event],
    ['URL', webhook.url],
    [t.state, webhook.active ? t.active : t.deactivated],
    ...(webhook.deactivatedAt ? [[t.deactivatedOn, formatUtc(webhook.deactivatedAt, language)] as [string, string]] : []),
    ...(webhook.lastError ? [[t.lastError, errorText(webhook.lastError, language)] as [string, string]] : []),
    ...extra,
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

/** What a test from the page found, with the hint for its failure. */
export function testResultBox(test: PageTest, language: Language, timeoutSeconds: number): string {
  const t = inLanguage(texts, language);
  const e = escapeHtml;
  if (test.kind === 'limited') return `<p class="note" id="test-result">${e(t.limited)}</p>`;
  const { outcome } = test;
  if (outcome.succeeded) return `<p class="ok" id="test-result">${e(t.passed(outcome.statusCode, Math.round(outcome.durationMs)))} ${sentText(language)}</p>`;
  return `<div class="bad" id="test-result"><p><strong>${e(t.failed)}:</strong> ${e(failureName(outcome.failureClass, language))}: ${e(errorText(outcome.error, language))}</p>` +
    `<p>${e(hintFor(outcome, timeoutSeconds, language))}</p><p>${sentText(language)}</p></div>`;
}
