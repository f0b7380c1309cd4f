import type { FailureClass } from '../../domain/delivery.js';
import type { RenderedMail } from '../../services/ports.js';

import { escapeHtml, formatUtc, type Language } from '../html.js';

export type { Language };

export interface DeactivationMailData {
  language: Language;
  webhook: { id: number; app: string; event: string; url: string };
  reason: 'failures' | 'gone';
  failureClass: FailureClass | string;
  statusCode: number | null;
  lastError: string;
  failureCount: number;
  firstFailureAt: Date;
  deactivatedAt: Date;
  bufferedEvents: number;
  bufferUntil: Date;
  linksValidUntil: Date;
  reactivateUrl: string;
  replayUrl: string;
  timeoutSeconds: number;
}


const failureNames: Record<Language, Record<string, string>> = {
  en: {
    dns: 'DNS lookup failed', connection_refused: 'connection refused', connection_reset: 'connection closed early', tls: 'TLS error',
    timeout: 'timeout', redirect: 'redirect', http_status: 'HTTP error status', target_not_allowed: 'address not allowed', network: 'network error',
  },
  de: {
    dns: 'DNS-Auflösung fehlgeschlagen', connection_refused: 'Verbindung abgelehnt', connection_reset: 'Verbindung vorzeitig geschlossen', tls: 'TLS-Fehler',
    timeout: 'Zeitüberschreitung', redirect: 'Weiterleitung', http_status: 'HTTP-Fehlerstatus', target_not_allowed: 'Adresse nicht erlaubt', network: 'Netzwerkfehler',
  },
};

/** One line that tells the customer what to fix, by how the attempts failed. */
export function hintFor(data: Pick<DeactivationMailData, 'failureClass' | 'statusCode' | 'timeoutSeconds'>, language: Language): string {
  const de = language === 'de';
  const status = data.statusCode ?? 0;
  switch (data.failureClass) {
    case 'dns':
      return de ? 'Der Hostname der URL ließ sich nicht auflösen. Prüfen Sie den DNS-Eintrag Ihres Servers.'
        : "The URL's host name could not be resolved. Check your server's DNS entry.";
    case 'connection_refused':
      return de ? 'Ihr Server hat die Verbindung abgelehnt. Prüfen Sie, ob der Webserver läuft und auf diesem Port erreichbar ist.'
        : 'Your server refused the connection. Check that the web server is running and reachable on this port.';
    case 'connection_reset':
      return de ? 'Ihr Server hat die Verbindung geschlossen, ohne zu antworten. Prüfen Sie das Fehlerprotokoll Ihres Servers.'
        : 'Your server closed the connection without answering. Check its error log.';
    case 'tls':
      return de ? 'Die verschlüsselte Verbindung kam nicht zustande. Prüfen Sie, ob das Zertifikat gültig, nicht abgelaufen und für diesen Hostnamen ausgestellt ist.'
        : 'The encrypted connection failed. Check that the certificate is valid, not expired and issued for this host name.';
    case 'timeout':
      return de ? `Ihr Server hat nicht innerhalb von ${data.timeoutSeconds} Sekunden geantwortet. Antworten Sie sofort mit einem 2xx-Status und verarbeiten Sie das Ereignis danach.`
        : `Your server did not answer within ${data.timeoutSeconds} seconds. Answer at once with a 2xx status and process the event afterwards.`;
    case 'redirect':
      return de ? 'Ihr Server hat mit einer Weiterleitung geantwortet; Weiterleitungen werden nicht verfolgt. Tragen Sie die endgültige URL ein (DeleteWebHookById, dann CreateWebHook).'
        : 'Your server answered with a redirect, and redirects are not followed. Register the final URL instead (DeleteWebHookById, then CreateWebHook).';
    case 'target_not_allowed':
      return de ? 'Der Hostname zeigt inzwischen auf eine private oder lokale Adresse, die Webhooks nicht erreichen dürfen.'
        : 'The host name now points to a private or local address, which webhooks may not reach.';
    case 'http_status':
      if (status === 410) {
        return de ? 'Ihr Server hat mit 410 Gone geantwortet und damit um das Ende der Zustellung gebeten.'
          : 'Your server answered 410 Gone, which asks us to stop sending.';
      }
      if (status >= 500) {
        return de ? `Ihr Server hatte einen internen Fehler (HTTP ${status}). Prüfen Sie sein Fehlerprotokoll.`
          : `Your server had an internal error (HTTP ${status}). Check its error log.`;
      }
      return de ? `Ihr Server hat die Anfrage abgelehnt (HTTP ${status}). Prüfen Sie die URL und ob sie JSON per POST annimmt.`
        : `Your server refused the request (HTTP ${status}). Check the URL and that it accepts JSON by POST.`;
    default:
      return de ? 'Die Verbindung ist fehlgeschlagen. Prüfen Sie, ob Ihr Server aus dem Internet erreichbar ist.'
        : 'The connection failed. Check that your server can be reached from the internet.';
  }
}

/** The texts of the e-mail, German or English; every value is escaped in the HTML part. */
function wording(data: DeactivationMailData) {
  const de = data.language === 'de';
  const date = (d: Date) => formatUtc(d, data.language);
  const { app, event, url, id } = data.webhook;
  const n = data.bufferedEvents;
  const why = data.reason === 'gone'
    ? (de ? 'weil Ihr Server mit 410 Gone geantwortet hat' : 'because your server answered 410 Gone')
    : de
      ? `weil ${data.failureCount} Zustellversuche nacheinander fehlgeschlagen sind, zwischen ${date(data.firstFailureAt)} und ${date(data.deactivatedAt)}`
      : `because ${data.failureCount} delivery attempts in a row failed, between ${date(data.firstFailureAt)} and ${date(data.deactivatedAt)}`;
  return {
    subject: de ? `Webhook deaktiviert: ${app} (${event})` : `Webhook deactivated: ${app} (${event})`,
    greeting: de ? 'Guten Tag,' : 'Hello,',
    intro: de
      ? `Ihr Webhook „${app}“ für das Ereignis ${event} wurde am ${date(data.deactivatedAt)} automatisch deaktiviert, ${why}.`
      : `Your webhook "${app}" for the event ${event} was deactivated automatically on ${date(data.deactivatedAt)}, ${why}.`,
    urlLabel: 'URL',
    errorLabel: de ? 'Letzter Fehler' : 'Last error',
    errorValue: `${failureNames[data.language][data.failureClass] ?? data.failureClass}: ${data.lastError}`,
    hintLabel: de ? 'Was zu tun ist' : 'What to do',
    hint: hintFor(data, data.language),
    buffer: de
      ? `Solange der Webhook deaktiviert ist, bewahren wir seine Ereignisse auf: ${n === 1 ? 'Ein Ereignis ist' : `${n} Ereignisse sind`} derzeit gepuffert, und neue Ereignisse werden bis ${date(data.bufferUntil)} gespeichert.`
      : `While the webhook is deactivated, we keep its events: ${n === 1 ? '1 event is' : `${n} events are`} buffered now, and new events are kept until ${date(data.bufferUntil)}.`,
    askFirst: de
      ? `Bitte stellen Sie zuerst sicher, dass die URL wieder erreichbar ist und innerhalb von ${data.timeoutSeconds} Sekunden mit einem 2xx-Status antwortet. Dann aktivieren Sie den Webhook mit einem Klick:`
      : `Please first make sure that the URL answers again, with a 2xx status within ${data.timeoutSeconds} seconds. Then reactivate the webhook with one click:`,
    replayLabel: de ? `Reaktivieren und die ${n} gepufferten Ereignisse senden` : `Reactivate and send the ${n} buffered events`,
    reactivateLabel: de ? 'Reaktivieren (gepufferte Ereignisse verwerfen)' : 'Reactivate (discard the buffered events)',
    validity: de ? `Die Links sind gültig bis ${date(data.linksValidUntil)}.` : `The links are valid until ${date(data.linksValidUntil)}.`,
    api: de
      ? `Über den Webservice geht es ebenso: ActivateWebHook mit id=${id}, dazu replayEvents=1, um die gepufferten Ereignisse zu senden.`
      : `You can do the same through the webservice: ActivateWebHook with id=${id}, plus replayEvents=1 to send the buffered events.`,
    signature: de ? 'Ihr Newsletter-Team' : 'Your newsletter team',
    url,
  };
}

export function renderDeactivationMail(data: DeactivationMailData): RenderedMail {
  const w = wording(data);
  const text = [
    w.greeting, '', w.intro, '', `${w.urlLabel}: ${w.url}`, `${w.errorLabel}: ${w.errorValue}`, `${w.hintLabel}: ${w.hint}`, '',
    w.buffer, '', w.askFirst, '', `${w.replayLabel}:`, data.replayUrl, '', `${w.reactivateLabel}:`, data.reactivateUrl, '',
    w.validity, w.api, '', w.signature, '',
  ].join('\n');

  const e = escapeHtml;
  const button = (href: string, label: string, primary: boolean) =>
    `<a href="${e(href)}" style="display:inline-block;margin:0 8px 8px 0;padding:10px 16px;border-radius:4px;text-decoration:none;font-weight:bold;` +
    (primary ? 'background:#1a5fb4;color:#ffffff;' : 'background:#ffffff;color:#1a5fb4;border:1px solid #1a5fb4;') + `">${e(label)}</a>`;
  const row = (label: string, value: string) =>
    `<tr><td style="padding:4px 12px 4px 0;color:#555555;vertical-align:top;white-space:nowrap;">${e(label)}</td><td style="padding:4px 0;word-break:break-all;">${e(value)}</td></tr>`;
  const html = `<!DOCTYPE html>
<html lang="${data.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(w.subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f4;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:6px;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222222;">
<tr><td style="padding:20px 24px;border-bottom:3px solid #c01c28;font-size:20px;font-weight:bold;">${e(w.subject)}</td></tr>
<tr><td style="padding:20px 24px;">
<p style="margin:0 0 12px 0;">${e(w.greeting)}</p>
<p style="margin:0 0 16px 0;">${e(w.intro)}</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px 0;font-size:14px;">${row(w.urlLabel, w.url)}${row(w.errorLabel, w.errorValue)}${row(w.hintLabel, w.hint)}</table>
<p style="margin:0 0 16px 0;">${e(w.buffer)}</p>
<p style="margin:0 0 12px 0;">${e(w.askFirst)}</p>
<p style="margin:0 0 8px 0;">${button(data.replayUrl, w.replayLabel, true)}${button(data.reactivateUrl, w.reactivateLabel, false)}</p>
<p style="margin:8px 0 0 0;font-size:13px;color:#555555;">${e(w.validity)} ${e(w.api)}</p>
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #eeeeee;font-size:13px;color:#555555;">${e(w.signature)}</td></tr>
</table></td></tr></table>
</body></html>
`;
  return { subject: w.subject, text, html };
}
