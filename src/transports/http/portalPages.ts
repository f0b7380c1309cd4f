import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { deliveryStatuses } from '../../domain/delivery.js';
import { ApiError, ErrorCode } from '../../domain/errors.js';
import { optionalPerSecond, readDateTime } from '../../domain/parameters.js';
import { deliveryIdOf, messageIdOf } from '../../domain/signature.js';
import { eventNames, maxPerSecondLimit, type WebHook } from '../../domain/webhook.js';
import { maxCustomHeaders, maxHeaderNameLength, maxHeaderValueLength, type HeaderChange } from '../../domain/customHeaders.js';
import type { Logger } from '../../logger.js';
import type { PortalAccess, PortalSession } from '../../services/portal.js';
import type { PageTest } from '../../services/reactivation.js';
import { readWebhookUpdate, type WebhookService } from '../../services/webhookService.js';
import type { DeliveryAttempt } from '../../storage/attemptsStore.js';
import { lastAttemptsOfAccount } from '../../storage/attemptsStore.js';
import type { Pool } from '../../storage/database.js';
import type { DeliveryView } from '../../storage/deliveriesStore.js';
import { errorText, failureName } from '../failureTexts.js';
import { escapeHtml as e, formatUtc, setPageSecurityHeaders } from '../html.js';
import { counted, inLanguage, type Language } from '../i18n.js';
import { hidden, page, testResultBox } from './linkPages.js';

const texts = {
  title: { en: 'Your webhooks', de: 'Ihre Webhooks' },
  signOut: { en: 'Sign out', de: 'Abmelden' },
  signedInAs: { en: (name: string) => `Signed in as ${name}`, de: (name: string) => `Angemeldet als ${name}` },
  none: { en: 'You have no webhooks yet.', de: 'Sie haben noch keine Webhooks.' },
  app: { en: 'Name (app)', de: 'Name (app)' },
  event: { en: 'Event', de: 'Ereignis' },
  url: { en: 'URL', de: 'URL' },
  state: { en: 'State', de: 'Zustand' },
  failures: { en: 'Failed steps in a row', de: 'Fehlgeschlagene Schritte in Folge' },
  buffered: { en: 'Buffered events', de: 'Gepufferte Ereignisse' },
  lastDelivery: { en: 'Last attempt', de: 'Letzter Versuch' },
  never: { en: 'none yet', de: 'noch keiner' },
  active: { en: 'Active', de: 'Aktiv' },
  deactivated: { en: 'Deactivated', de: 'Deaktiviert' },
  failing: { en: 'Active, failing', de: 'Aktiv, mit Fehlern' },
  ok: { en: 'accepted', de: 'angenommen' },
  failed: { en: 'failed', de: 'fehlgeschlagen' },
  create: { en: 'Create a webhook', de: 'Webhook anlegen' },
  createButton: { en: 'Create', de: 'Anlegen' },
  maxPerSecond: { en: 'At most … requests per second (empty: no limit)', de: 'Höchstens … Anfragen pro Sekunde (leer: keine Grenze)' },
  throttle: { en: 'Requests per second at most', de: 'Anfragen pro Sekunde höchstens' },
  noLimit: { en: 'no limit: as fast as your server answers well', de: 'keine Grenze: so schnell, wie Ihr Server gut antwortet' },
  open: { en: 'Open', de: 'Öffnen' },
  back: { en: 'All webhooks', de: 'Alle Webhooks' },
  lastError: { en: 'Last error', de: 'Letzter Fehler' },
  deliveries: { en: 'Deliveries', de: 'Zustellungen' },
  filter: { en: 'Filter', de: 'Filtern' },
  anyStatus: { en: 'any state', de: 'jeder Zustand' },
  subscriber: { en: 'Subscriber key', de: 'Abonnentenschlüssel' },
  messageId: { en: 'webhook-id (messageId)', de: 'webhook-id (messageId)' },
  occurred: { en: 'Happened', de: 'Eingetreten' },
  status: { en: 'State', de: 'Zustand' },
  attempts: { en: 'Attempts', de: 'Versuche' },
  noDeliveries: { en: 'No deliveries match.', de: 'Keine Zustellung passt.' },
  actions: { en: 'Fix it', de: 'In Ordnung bringen' },
  manage: { en: 'Manage', de: 'Verwalten' },
  edit: { en: 'Change name, URL, throttle or headers', de: 'Name, URL, Drosselung oder Header ändern' },
  editTitle: { en: (app: string) => `Change "${app}"`, de: (app: string) => `„${app}“ ändern` },
  editNote: {
    en: 'The webhook keeps its id, signing secret, sequence numbers, waiting deliveries and buffered events. A new URL is tested like a new webhook\'s and used from the next request on.',
    de: 'Der Webhook behält seine id, seinen Signaturschlüssel, seine Sequenznummern, wartende Zustellungen und gepufferte Ereignisse. Eine neue URL wird wie bei einem neuen Webhook geprüft und ab der nächsten Anfrage verwendet.',
  },
  save: { en: 'Save', de: 'Speichern' },
  saved: { en: 'Saved.', de: 'Gespeichert.' },
  headers: { en: 'Your own headers', de: 'Eigene Header' },
  headersNote: {
    en: 'Sent with every request, e.g. Authorization for a server behind a gateway. Values are never shown again: leave a value empty to keep the stored one.',
    de: 'Werden mit jeder Anfrage gesendet, etwa Authorization für einen Server hinter einem Gateway. Werte werden nie wieder angezeigt: Lassen Sie einen Wert leer, um den gespeicherten zu behalten.',
  },
  headerName: { en: 'Header name', de: 'Name des Headers' },
  headerValue: { en: 'New value', de: 'Neuer Wert' },
  keepValue: { en: 'empty: keep the stored value', de: 'leer: gespeicherten Wert behalten' },
  removeHeader: { en: 'Remove', de: 'Entfernen' },
  noHeaders: { en: 'none', de: 'keine' },
  since: { en: 'Since (UTC)', de: 'Seit (UTC)' },
  switchTo: { en: 'Deutsch', de: 'English' },
  test: { en: 'Test the URL now', de: 'URL jetzt testen' },
  recover: { en: 'Send again every failed and discarded delivery since the moment you choose.', de: 'Jede fehlgeschlagene und verworfene Zustellung ab dem gewählten Zeitpunkt erneut senden.' },
  recoverButton: { en: 'Recover', de: 'Nachholen' },
  recovered: {
    en: (n: number) => counted.en(n, '1 delivery goes out again.', `${n} deliveries go out again.`),
    de: (n: number) => counted.de(n, '1 Zustellung geht erneut hinaus.', `${n} Zustellungen gehen erneut hinaus.`),
  },
  rotate: { en: 'Give the webhook a new signing secret (the old one signs beside it for a day)', de: 'Dem Webhook einen neuen Signaturschlüssel geben (der alte signiert einen Tag lang daneben)' },
  rotateButton: { en: 'Rotate the secret', de: 'Schlüssel erneuern' },
  newSecret: { en: 'The new secret, shown only now: copy it to your server.', de: 'Der neue Schlüssel, nur jetzt sichtbar: Kopieren Sie ihn auf Ihren Server.' },
  reactivate: { en: 'Reactivate', de: 'Reaktivieren' },
  reactivateNote: { en: 'The URL is tested first; the webhook is reactivated when the test passes.', de: 'Die URL wird zuerst getestet; der Webhook wird reaktiviert, wenn der Test gelingt.' },
  replay: {
    en: (n: number) => counted.en(n, 'Send the buffered event (otherwise it is discarded)', `Send the ${n} buffered events (otherwise they are discarded)`),
    de: (n: number) => counted.de(n, 'Das gepufferte Ereignis senden (sonst wird es verworfen)', `Die ${n} gepufferten Ereignisse senden (sonst werden sie verworfen)`),
  },
  anyway: { en: 'Reactivate even though the test failed', de: 'Auch reaktivieren, obwohl der Test fehlschlug' },
  reactivated: {
    en: (n: number) => counted.en(n, 'The webhook is active again; the buffered event is sent.', `The webhook is active again; ${n} buffered events are sent.`),
    de: (n: number) => counted.de(n, 'Der Webhook ist wieder aktiv; das gepufferte Ereignis wird gesendet.', `Der Webhook ist wieder aktiv; ${n} gepufferte Ereignisse werden gesendet.`),
  },
  notReactivated: { en: 'The test failed, so the webhook stays deactivated. Fix the URL, or tick the box to reactivate all the same.', de: 'Der Test schlug fehl, daher bleibt der Webhook deaktiviert. Beheben Sie den Fehler, oder kreuzen Sie an, um trotzdem zu reaktivieren.' },
  delete: { en: 'Delete this webhook', de: 'Diesen Webhook löschen' },
  deleteConfirm: { en: (app: string) => `Delete the webhook "${app}"? Its buffered events are discarded and nothing more is sent to its URL.`, de: (app: string) => `Den Webhook „${app}“ löschen? Seine gepufferten Ereignisse werden verworfen, und an seine URL geht nichts mehr.` },
  deleteButton: { en: 'Delete', de: 'Löschen' },
  cancel: { en: 'Keep it', de: 'Behalten' },
  delivery: { en: 'Delivery', de: 'Zustellung' },
  attemptsTitle: { en: 'Attempts and your server\'s answers', de: 'Versuche und die Antworten Ihres Servers' },
  when: { en: 'When', de: 'Wann' },
  duration: { en: 'Duration', de: 'Dauer' },
  answer: { en: 'Answer', de: 'Antwort' },
  noAttempts: { en: 'No attempt kept.', de: 'Kein Versuch gespeichert.' },
  payload: { en: 'Payload', de: 'Inhalt' },
  payloadGone: { en: 'No longer kept.', de: 'Nicht mehr gespeichert.' },
  resend: { en: 'Send it again', de: 'Erneut senden' },
  resent: { en: 'It goes out again, with the same webhook-id, after the waiting events of its subscriber.', de: 'Sie geht erneut hinaus, mit derselben webhook-id, nach den wartenden Ereignissen ihres Abonnenten.' },
  signedOut: { en: 'You are signed out.', de: 'Sie sind abgemeldet.' },
  signInFirst: { en: 'Please open the portal from your account on the platform: the link signs you in.', de: 'Bitte öffnen Sie das Portal aus Ihrem Konto auf der Plattform: Der Link meldet Sie an.' },
  invalidLink: { en: 'This sign-in link is no longer valid: it works once and for a limited time. Open the portal from the platform again.', de: 'Dieser Anmeldelink ist nicht mehr gültig: Er gilt einmal und nur begrenzte Zeit. Öffnen Sie das Portal erneut aus der Plattform.' },
  notFound: { en: 'There is nothing here.', de: 'Hier ist nichts.' },
  refused: { en: 'This form has expired. Please reload the page and try again.', de: 'Dieses Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.' },
};

const cookieName = 'portal_session';
// A page of the delivery log: the newest this many.
const logLength = 50;

function cookieOf(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === cookieName) return value.join('=');
  }
  return undefined;
}

const field = (id: string, name: string, label: string, input: string) => `<label class="field" for="${id}"><span>${e(label)}</span>${input.replace('<input ', `<input id="${id}" name="${name}" `).replace('<select ', `<select id="${id}" name="${name}" `)}</label>`;

interface Signed {
  session: PortalSession;
  cookie: string;
  /** The page this request shows, for the language switch to come back to. */
  back: string;
  t: ReturnType<typeof inLanguage<typeof texts>>;
  language: Language;
}

/**
 * The customer portal: /portal/signin?token=… (a one-time link from
 * GetPortalLink) opens a session of one account; then the account's webhooks,
 * each webhook's page with its delivery log and what can be done about it,
 * and each delivery's attempts with the receiver's answers and its payload.
 * Server-rendered forms, no scripts; every form carries the session's CSRF
 * token; another account's webhook is 404; every change is logged with the
 * account and the webhook.
 */
export function portalPages(
  access: PortalAccess,
  webhooks: WebhookService,
  pool: Pool,
  log: Logger,
  options: { publicUrl: string; frameAncestors: string | undefined; timeoutSeconds: number },
): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });
  // Name, URL, throttle and three fields for each of ten headers.
  const editForm = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 40 });
  const secure = options.publicUrl.startsWith('https:');
  const headers = (res: Response) => setPageSecurityHeaders(res, { ownScripts: false, frameAncestors: options.frameAncestors });
  const send = (res: Response, signed: Pick<Signed, 'language'>, title: string, body: string, status = 200) =>
    void res.status(status).type('html').send(page(signed.language, title, body, { wide: true }));

  /** The frame of a signed-in page: who is signed in, the way back, signing out. */
  const frame = (signed: Signed, body: string, back = true) => `<header><span>${e(signed.t.signedInAs(signed.session.username))}</span>
<nav>${back ? `<a href="/portal">${e(signed.t.back)}</a> ` : ''}<form class="inline" method="post" action="/portal/language">${hidden('csrf', signed.session.csrf)}${hidden('language', signed.language === 'de' ? 'en' : 'de')}${hidden('back', signed.back)}<button type="submit" class="secondary" lang="${signed.language === 'de' ? 'en' : 'de'}">${e(signed.t.switchTo)}</button></form>
<form class="inline" method="post" action="/portal/signout">${hidden('csrf', signed.session.csrf)}<button type="submit" class="secondary">${e(signed.t.signOut)}</button></form></nav></header>
${body}`;

  const signedIn = async (req: Request, res: Response): Promise<Signed | undefined> => {
    headers(res);
    const cookie = cookieOf(req);
    const session = await access.session(cookie);
    if (!session) {
      const language: Language = req.query.lang === 'de' ? 'de' : 'en';
      const t = inLanguage(texts, language);
      send(res, { language }, t.title, `<h1>${e(t.title)}</h1><p class="note">${e(t.signInFirst)}</p>`, 401);
      return undefined;
    }
    return { session, cookie: cookie!, back: pageOf(req), t: inLanguage(texts, session.language), language: session.language };
  };

  /** POSTs change things: only with the session's CSRF token. */
  const changing = async (req: Request, res: Response): Promise<Signed | undefined> => {
    const signed = await signedIn(req, res);
    if (!signed) return undefined;
    const given = Buffer.from(typeof req.body?.csrf === 'string' ? req.body.csrf : '');
    const expected = Buffer.from(signed.session.csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      send(res, signed, signed.t.title, frame(signed, `<p class="bad">${e(signed.t.refused)}</p>`), 403);
      return undefined;
    }
    return signed;
  };

  /** A webhook of the signed-in account, or a 404 page (another account's looks exactly like none). */
  const ownWebhook = async (signed: Signed, req: Request, res: Response): Promise<WebHook | undefined> => {
    const id = /^\d{1,10}$/.test(String(req.params.id)) ? Number(req.params.id) : 0;
    const webhook = id > 0 ? await webhooks.get(signed.session.accountId, id).catch(notFoundAsUndefined) : undefined;
    if (!webhook) send(res, signed, signed.t.notFound, frame(signed, `<h1>${e(signed.t.notFound)}</h1>`), 404);
    return webhook;
  };

  const changed = (signed: Signed, webhookId: number | undefined, action: string) =>
    log.info({ transport: 'portal', account: signed.session.accountId, webhook: webhookId, action }, 'portal change');

  const stateOf = (t: Signed['t'], webhook: WebHook) =>
    !webhook.active ? `<span>✖ ${e(t.deactivated)}</span>` : webhook.failureCount > 0 ? `<span>⚠ ${e(t.failing)}</span>` : `<span>✔ ${e(t.active)}</span>`;

  function listPage(signed: Signed, list: WebHook[], last: Awaited<ReturnType<typeof lastAttemptsOfAccount>>, notice = ''): string {
    const { t, language } = signed;
    const rows = list.map((w) => {
      const attempt = last.get(w.id);
      const lastText = attempt ? `${formatUtc(attempt.at, language)}, ${attempt.succeeded ? t.ok : t.failed}${attempt.statusCode ? ` (HTTP ${attempt.statusCode})` : ''}` : t.never;
      return [`<a href="/portal/webhooks/${w.id}">${e(w.app)}</a>`, e(w.event), `<span class="url">${e(w.url)}</span>`, stateOf(t, w), String(w.failureCount), String(w.bufferedEvents), e(lastText)];
    });
    const table = list.length === 0 ? `<p>${e(t.none)}</p>` : rowsTable([t.app, t.event, t.url, t.state, t.failures, t.buffered, t.lastDelivery], rows);
    return frame(signed, `<h1>${e(t.title)}</h1>${notice}${table}
<section><h2>${e(t.create)}</h2>
<form method="post" action="/portal/webhooks">${hidden('csrf', signed.session.csrf)}
${field('app', 'app', t.app, '<input type="text" required maxlength="255">')}
${field('event', 'event', t.event, `<select required>${eventNames.map((name) => `<option value="${name}">${name}</option>`).join('')}</select>`)}
${field('url', 'url', t.url, '<input type="url" required maxlength="2048" size="60">')}
${field('maxPerSecond', 'maxPerSecond', t.maxPerSecond, `<input type="number" min="0" max="${maxPerSecondLimit}" step="1" inputmode="numeric">`)}
<button type="submit">${e(t.createButton)}</button></form></section>`, false);
  }

  async function showList(signed: Signed, res: Response, notice = '', status = 200): Promise<void> {
    const [list, last] = await Promise.all([webhooks.list(signed.session.accountId, {}), lastAttemptsOfAccount(pool, signed.session.accountId)]);
    send(res, signed, signed.t.title, listPage(signed, list, last, notice), status);
  }

  async function showWebhook(signed: Signed, res: Response, webhook: WebHook, filter: Record<string, string>, notice = '', status = 200): Promise<void> {
    const { t, language, session } = signed;
    const chosen = deliveryStatuses.find((s) => s === filter.status);
    const deliveryId = filter.messageId ? deliveryIdOf(filter.messageId.trim()) ?? -1 : undefined;
    const log = await webhooks.deliveries(session.accountId, webhook.id, { limit: logLength, status: chosen, subscriber: filter.subscriber?.trim() || undefined, deliveryId });
    const csrf = hidden('csrf', session.csrf);
    const facts: Array<[string, string]> = [
      [t.event, webhook.event], [t.url, webhook.url], [t.failures, String(webhook.failureCount)], [t.buffered, String(webhook.bufferedEvents)],
      [t.throttle, webhook.maxPerSecond === null ? t.noLimit : String(webhook.maxPerSecond)], [t.headers, webhook.headerNames.join(', ') || t.noHeaders],
    ];
    const healthy = webhook.active && webhook.failureCount === 0;
    // A healthy webhook's last error is history: the delivery log keeps it.
    if (webhook.lastError && !healthy) facts.push([t.lastError, errorText(webhook.lastError, language)]);
    // A delivered row's last attempt succeeded: whatever failed before is in its attempts, not its summary.
    const errorOf = (d: DeliveryView) => (d.status === 'delivered' ? '' : d.lastError ? errorText(d.lastError, language) : d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : '');
    const rows = log.map((d) => [
      `<a href="/portal/webhooks/${webhook.id}/deliveries/${messageIdOf(d.id)}">${messageIdOf(d.id)}</a>`, e(formatUtc(d.occurredAt, language)), e(d.subscriber ?? ''), e(d.status), String(d.attempts), e(errorOf(d)),
    ]);
    const reactivate = webhook.active ? '' : `<form method="post" action="/portal/webhooks/${webhook.id}/reactivate">${csrf}<p>${e(t.reactivateNote)}</p>
${webhook.bufferedEvents > 0 ? `<label><input type="checkbox" name="replayEvents" value="1" checked> ${e(t.replay(webhook.bufferedEvents))}</label>` : ''}
<button type="submit">${e(t.reactivate)}</button></form>`;
    send(res, signed, webhook.app, frame(signed, `<h1>${e(webhook.app)} ${stateOf(t, webhook)}</h1>${notice}
<dl>${facts.map(([label, value]) => `<dt>${e(label)}</dt><dd>${e(value)}</dd>`).join('')}</dl>
<section><h2>${e(healthy ? t.manage : t.actions)}</h2>${reactivate}
<p><a href="/portal/webhooks/${webhook.id}/edit">${e(t.edit)}</a></p>
<form method="post" action="/portal/webhooks/${webhook.id}/test">${csrf}<button type="submit" class="secondary">${e(t.test)}</button></form>
<form method="post" action="/portal/webhooks/${webhook.id}/recover">${csrf}<p>${e(t.recover)}</p>
${field('since', 'since', t.since, `<input type="datetime-local" required value="${e(new Date(access.now().getTime() - 86_400_000).toISOString().slice(0, 16))}">`)}
<button type="submit" class="secondary">${e(t.recoverButton)}</button></form>
<form method="post" action="/portal/webhooks/${webhook.id}/rotate">${csrf}<p>${e(t.rotate)}</p><button type="submit" class="secondary">${e(t.rotateButton)}</button></form>
<p><a href="/portal/webhooks/${webhook.id}/delete">${e(t.delete)}</a></p></section>
<section><h2>${e(t.deliveries)}</h2>
<form method="get" action="/portal/webhooks/${webhook.id}">
${field('status', 'status', t.status, `<select><option value="">${e(t.anyStatus)}</option>${deliveryStatuses.map((s) => `<option value="${s}"${s === chosen ? ' selected' : ''}>${s}</option>`).join('')}</select>`)}
${field('subscriber', 'subscriber', t.subscriber, `<input type="text" value="${e(filter.subscriber ?? '')}">`)}
${field('messageId', 'messageId', t.messageId, `<input type="text" value="${e(filter.messageId ?? '')}">`)}
<button type="submit" class="secondary">${e(t.filter)}</button></form>
${log.length === 0 ? `<p>${e(t.noDeliveries)}</p>` : rowsTable([t.messageId, t.occurred, t.subscriber, t.status, t.attempts, t.lastError], rows)}
</section>`), status);
  }

  function deliveryPage(signed: Signed, webhook: WebHook, delivery: DeliveryView, attempts: DeliveryAttempt[], notice = ''): string {
    const { t, language, session } = signed;
    const messageId = messageIdOf(delivery.id);
    const rows = attempts.map((a) => [
      e(formatUtc(a.attemptedAt, language)), String(a.statusCode ?? '—'), `${a.durationMs} ms`,
      a.failureClass ? `${e(failureName(a.failureClass, language))}: ${e(errorText(a.error ?? '', language))}` : e(t.ok), a.response ? `<pre>${e(a.response)}</pre>` : '',
    ]);
    const finished = delivery.status === 'delivered' || delivery.status === 'failed' || delivery.status === 'discarded';
    return frame(signed, `<p><a href="/portal/webhooks/${webhook.id}">${e(webhook.app)}</a></p>
<h1>${e(t.delivery)} ${e(messageId)}</h1>${notice}
<dl><dt>${e(t.event)}</dt><dd>${e(delivery.event)}</dd><dt>${e(t.occurred)}</dt><dd>${e(formatUtc(delivery.occurredAt, language))}</dd>
<dt>${e(t.subscriber)}</dt><dd>${e(delivery.subscriber ?? '—')}</dd><dt>${e(t.status)}</dt><dd>${e(delivery.status)}</dd></dl>
${finished ? `<form method="post" action="/portal/webhooks/${webhook.id}/deliveries/${messageId}/resend">${hidden('csrf', session.csrf)}<button type="submit">${e(t.resend)}</button></form>` : ''}
<section><h2>${e(t.attemptsTitle)}</h2>
${attempts.length === 0 ? `<p>${e(t.noAttempts)}</p>` : rowsTable([t.when, 'HTTP', t.duration, t.status, t.answer], rows)}</section>
<section><h2>${e(t.payload)}</h2>${delivery.payload ? `<pre>${e(prettyJson(delivery.payload))}</pre>` : `<p>${e(t.payloadGone)}</p>`}</section>`);
  }

  function editPage(signed: Signed, webhook: WebHook, form: Record<string, string> = {}, notice = ''): string {
    const { t, session } = signed;
    const value = (name: string, stored: string) => e(form[name] ?? stored);
    // The stored headers by name (values are write-only), then empty rows up to the limit, at most three new at once.
    const names = webhook.headerNames;
    const rows = Math.min(maxCustomHeaders, names.length + 3);
    const headerRows = Array.from({ length: rows }, (_, n) => {
      const stored = names[n];
      return `<fieldset class="header"><legend>Header ${n + 1}</legend>
${field(`header-name-${n}`, `headerName${n}`, t.headerName, `<input type="text" maxlength="${maxHeaderNameLength}" spellcheck="false" value="${value(`headerName${n}`, stored ?? '')}">`)}
${field(`header-value-${n}`, `headerValue${n}`, stored ? `${t.headerValue} (${t.keepValue})` : t.headerValue, `<input type="text" maxlength="${maxHeaderValueLength}" spellcheck="false" autocomplete="off" value="">`)}
${stored ? `<label><input type="checkbox" name="headerRemove${n}" value="1"${form[`headerRemove${n}`] === '1' ? ' checked' : ''}> ${e(t.removeHeader)}</label>` : ''}</fieldset>`;
    }).join('\n');
    return frame(signed, `<p><a href="/portal/webhooks/${webhook.id}">${e(webhook.app)}</a></p>
<h1>${e(t.editTitle(webhook.app))}</h1>${notice}<p>${e(t.editNote)}</p>
<form method="post" action="/portal/webhooks/${webhook.id}/edit">${hidden('csrf', session.csrf)}
${field('app', 'app', t.app, `<input type="text" required maxlength="255" value="${value('app', webhook.app)}">`)}
${field('url', 'url', t.url, `<input type="url" required maxlength="2048" value="${value('url', webhook.url)}">`)}
${field('maxPerSecond', 'maxPerSecond', t.maxPerSecond, `<input type="number" min="0" max="${maxPerSecondLimit}" step="1" inputmode="numeric" value="${value('maxPerSecond', webhook.maxPerSecond === null ? '' : String(webhook.maxPerSecond))}">`)}
<section><h2>${e(t.headers)}</h2><p>${e(t.headersNote)}</p>
${headerRows}</section>
<button type="submit">${e(t.save)}</button></form>`);
  }

  async function showDelivery(signed: Signed, req: Request, res: Response, webhook: WebHook, notice = ''): Promise<void> {
    const deliveryId = deliveryIdOf(String(req.params.messageId));
    const [delivery] = deliveryId ? await webhooks.deliveries(signed.session.accountId, webhook.id, { limit: 1, deliveryId, withPayload: true }) : [];
    if (!delivery) return send(res, signed, signed.t.notFound, frame(signed, `<h1>${e(signed.t.notFound)}</h1>`), 404);
    const attempts = await webhooks.attempts(signed.session.accountId, webhook.id, delivery.id);
    send(res, signed, `${signed.t.delivery} ${messageIdOf(delivery.id)}`, deliveryPage(signed, webhook, delivery, attempts, notice));
  }

  const problem = (error: unknown) => {
    if (error instanceof ApiError && error.code !== ErrorCode.internal) return `<p class="bad">${e(error.message)}</p>`;
    throw error;
  };
  const wrap = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => handler(req, res).catch(next);

  router.get('/portal/signin', wrap(async (req, res) => {
    headers(res);
    const signedIn = await access.signIn(typeof req.query.token === 'string' ? req.query.token : '');
    if (!signedIn) {
      const t = inLanguage(texts, 'en');
      const de = inLanguage(texts, 'de');
      return void res.status(404).type('html').send(page('en', `${t.title} / ${de.title}`, `<h1>${e(t.title)}</h1><p class="note">${e(t.invalidLink)}</p><p class="note" lang="de">${e(de.invalidLink)}</p>`, { wide: true }));
    }
    // The cookie never leaves the portal's path; the token leaves the address bar with the redirect.
    res.set('set-cookie', `${cookieName}=${signedIn.cookie}; Path=/portal; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
    res.redirect(303, signedIn.webhookId ? `/portal/webhooks/${signedIn.webhookId}` : '/portal');
  }));

  router.post('/portal/signout', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    if (!signed) return;
    await access.signOut(signed.cookie);
    res.set('set-cookie', `${cookieName}=; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`);
    send(res, signed, signed.t.title, `<h1>${e(signed.t.title)}</h1><p class="ok">${e(signed.t.signedOut)}</p>`);
  }));

  router.get('/portal', wrap(async (req, res) => {
    const signed = await signedIn(req, res);
    if (signed) await showList(signed, res);
  }));

  router.post('/portal/webhooks', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    if (!signed) return;
    try {
      const maxPerSecond = optionalPerSecond(req.body, 'maxPerSecond', maxPerSecondLimit);
      const created = await webhooks.create(signed.session.accountId, { app: String(req.body.app ?? ''), event: String(req.body.event ?? ''), url: String(req.body.url ?? ''), maxPerSecond });
      changed(signed, created.id, 'create');
      res.redirect(303, `/portal/webhooks/${created.id}`);
    } catch (error) {
      await showList(signed, res, problem(error), 422);
    }
  }));

  router.get('/portal/webhooks/:id', wrap(async (req, res) => {
    const signed = await signedIn(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (webhook) await showWebhook(signed, res, webhook, req.query as Record<string, string>);
  }));

  router.get('/portal/webhooks/:id/edit', wrap(async (req, res) => {
    const signed = await signedIn(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (webhook) send(res, signed, signed.t.editTitle(webhook.app), editPage(signed, webhook));
  }));

  router.post('/portal/webhooks/:id/edit', editForm, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    const body = req.body as Record<string, string>;
    try {
      const headers: HeaderChange[] = [];
      for (let n = 0; n < maxCustomHeaders; n += 1) {
        const name = String(body[`headerName${n}`] ?? '').trim();
        if (name === '' || body[`headerRemove${n}`] === '1') continue;
        const value = String(body[`headerValue${n}`] ?? '');
        headers.push({ name, value: value === '' ? null : value });
      }
      // The checks are UpdateWebHook's; the form always sends the throttle (empty: no limit).
      const update = readWebhookUpdate({ app: body.app, url: body.url, maxPerSecond: body.maxPerSecond ?? '', headers });
      const saved = await webhooks.update(signed.session.accountId, webhook.id, update);
      changed(signed, webhook.id, 'edit');
      await showWebhook(signed, res, saved, {}, `<p class="ok">${e(signed.t.saved)}</p>`);
    } catch (error) {
      send(res, signed, signed.t.editTitle(webhook.app), editPage(signed, webhook, body, problem(error)), 422);
    }
  }));

  router.post('/portal/language', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    if (!signed) return;
    await access.setLanguage(signed.cookie, req.body.language === 'de' ? 'de' : 'en');
    const back = String(req.body.back ?? '');
    // Only a page of the portal: never a way to send the browser elsewhere.
    res.redirect(303, /^\/portal(\/[\w/-]*)?(\?[\w=&%.+-]*)?$/.test(back) ? back : '/portal');
  }));

  router.post('/portal/webhooks/:id/test', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    const test: PageTest = await webhooks.test(signed.session.accountId, webhook.id).then(
      (outcome) => ({ kind: 'answered' as const, outcome }),
      (error: unknown) => ({ kind: 'limited' as const, message: problem(error) }),
    );
    await showWebhook(signed, res, webhook, {}, testResultBox(test, signed.language, options.timeoutSeconds));
  }));

  router.post('/portal/webhooks/:id/reactivate', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    const { t } = signed;
    const outcome = await webhooks.test(signed.session.accountId, webhook.id).catch(() => undefined);
    const box = outcome ? testResultBox({ kind: 'answered', outcome }, signed.language, options.timeoutSeconds) : '';
    if (!outcome?.succeeded && req.body.anyway !== '1') {
      const again = `<form method="post" action="/portal/webhooks/${webhook.id}/reactivate">${hidden('csrf', signed.session.csrf)}${req.body.replayEvents === '1' ? hidden('replayEvents', '1') : ''}
<label><input type="checkbox" name="anyway" value="1"> ${e(t.anyway)}</label><button type="submit">${e(t.reactivate)}</button></form>`;
      return showWebhook(signed, res, webhook, {}, `${box}<p class="bad">${e(t.notReactivated)}</p>${again}`);
    }
    const activation = await webhooks.activate(signed.session.accountId, webhook.id, req.body.replayEvents === '1');
    changed(signed, webhook.id, 'reactivate');
    await showWebhook(signed, res, activation.webhook, {}, `${box}<p class="ok">${e(t.reactivated(activation.replayedEvents))}</p>`);
  }));

  router.post('/portal/webhooks/:id/rotate', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    const rotated = await webhooks.rotateSecret(signed.session.accountId, webhook.id, 1440);
    changed(signed, webhook.id, 'rotate secret');
    await showWebhook(signed, res, rotated, {}, `<div class="ok"><p>${e(signed.t.newSecret)}</p><p class="secret" id="new-secret">${e(rotated.secret)}</p></div>`);
  }));

  router.post('/portal/webhooks/:id/recover', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    try {
      const scheduled = await webhooks.recover(signed.session.accountId, webhook.id, { since: readDateTime('since', String(req.body.since ?? '')) });
      changed(signed, webhook.id, 'recover');
      await showWebhook(signed, res, webhook, {}, `<p class="ok">${e(signed.t.recovered(scheduled))}</p>`);
    } catch (error) {
      await showWebhook(signed, res, webhook, {}, problem(error), 422);
    }
  }));

  router.get('/portal/webhooks/:id/delete', wrap(async (req, res) => {
    const signed = await signedIn(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    const { t } = signed;
    send(res, signed, t.delete, frame(signed, `<h1>${e(t.delete)}</h1><p>${e(t.deleteConfirm(webhook.app))}</p>
<form method="post" action="/portal/webhooks/${webhook.id}/delete">${hidden('csrf', signed.session.csrf)}<button type="submit">${e(t.deleteButton)}</button></form>
<p><a href="/portal/webhooks/${webhook.id}">${e(t.cancel)}</a></p>`));
  }));

  router.post('/portal/webhooks/:id/delete', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    await webhooks.delete(signed.session.accountId, webhook.id);
    changed(signed, webhook.id, 'delete');
    res.redirect(303, '/portal');
  }));

  router.get('/portal/webhooks/:id/deliveries/:messageId', wrap(async (req, res) => {
    const signed = await signedIn(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (webhook) await showDelivery(signed, req, res, webhook);
  }));

  router.post('/portal/webhooks/:id/deliveries/:messageId/resend', form, wrap(async (req, res) => {
    const signed = await changing(req, res);
    const webhook = signed && (await ownWebhook(signed, req, res));
    if (!webhook) return;
    let notice: string;
    try {
      await webhooks.resend(signed.session.accountId, webhook.id, deliveryIdOf(String(req.params.messageId)) ?? 0);
      changed(signed, webhook.id, 'resend');
      notice = `<p class="ok">${e(signed.t.resent)}</p>`;
    } catch (error) {
      notice = problem(error);
    }
    await showDelivery(signed, req, res, webhook, notice);
  }));

  return router;
}

/**
 * A table whose rows become a list of labelled fields on a narrow screen
 * (the labels come from data-label), so that no column is squeezed to a
 * letter's width. Cells are HTML, already escaped.
 */
function rowsTable(headings: string[], rows: string[][]): string {
  const head = headings.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell, n) => `<td data-label="${e(headings[n]!)}">${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table class="rows"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A payload as a person reads it: indented when it is JSON, as stored otherwise. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The page a request shows: a form's action without its verb, the list for the create form. */
function pageOf(req: Request): string {
  if (req.method === 'GET') return req.originalUrl;
  const path = req.originalUrl.split('?')[0]!.replace(/\/(test|reactivate|rotate|recover|resend)$/, '');
  return path === '/portal/webhooks' ? '/portal' : path;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof ApiError && error.code === ErrorCode.webhookNotFound) return undefined;
  throw error;
}
