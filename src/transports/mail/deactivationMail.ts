import type { DeactivationMailData, RenderedMail } from '../../services/ports.js';
import { formatUtc } from '../html.js';
import { counted, inLanguage } from '../i18n.js';
import { failureFacts, portalButton, renderMail } from './mailLayout.js';


const texts = {
  subject: { en: (app: string, event: string) => `Webhook deactivated: ${app} (${event})`, de: (app: string, event: string) => `Webhook deaktiviert: ${app} (${event})` },
  becauseGone: { en: 'because your server answered 410 Gone', de: 'weil Ihr Server mit 410 Gone geantwortet hat' },
  becauseFailures: {
    en: (count: number, from: string, to: string) => `because ${count} delivery attempts in a row failed, between ${from} and ${to}`,
    de: (count: number, from: string, to: string) => `weil ${count} Zustellversuche nacheinander fehlgeschlagen sind, zwischen ${from} und ${to}`,
  },
  intro: {
    en: (app: string, event: string, at: string, why: string) => `Your webhook "${app}" for the event ${event} was deactivated automatically on ${at}, ${why}.`,
    de: (app: string, event: string, at: string, why: string) => `Ihr Webhook „${app}“ für das Ereignis ${event} wurde am ${at} automatisch deaktiviert, ${why}.`,
  },
  buffer: {
    en: (n: number, until: string) => `While the webhook is deactivated, we keep its events: ${n === 1 ? '1 event is' : `${n} events are`} buffered now, and new events are kept until ${until}.`,
    de: (n: number, until: string) => `Solange der Webhook deaktiviert ist, bewahren wir seine Ereignisse auf: ${n === 1 ? 'Ein Ereignis ist' : `${n} Ereignisse sind`} derzeit gepuffert, und neue Ereignisse werden bis ${until} gespeichert.`,
  },
  askFirst: {
    en: (seconds: number) => `Please first make sure that the URL answers again, with a 2xx status within ${seconds} seconds. The page behind each link tests the URL for you before you reactivate the webhook with one click:`,
    de: (seconds: number) => `Bitte stellen Sie zuerst sicher, dass die URL wieder erreichbar ist und innerhalb von ${seconds} Sekunden mit einem 2xx-Status antwortet. Die Seite hinter jedem Link testet die URL für Sie, bevor Sie den Webhook mit einem Klick reaktivieren:`,
  },
  replay: {
    en: (n: number) => counted.en(n, 'Reactivate and send the buffered event', `Reactivate and send the ${n} buffered events`),
    de: (n: number) => counted.de(n, 'Reaktivieren und das gepufferte Ereignis senden', `Reaktivieren und die ${n} gepufferten Ereignisse senden`),
  },
  reactivate: { en: 'Reactivate (discard the buffered events)', de: 'Reaktivieren (gepufferte Ereignisse verwerfen)' },
  validity: { en: (until: string) => `The links are valid until ${until}.`, de: (until: string) => `Die Links sind gültig bis ${until}.` },
  api: {
    en: (id: number) => `You can do the same through the webservice: ActivateWebHook with id=${id}, plus replayEvents=1 to send the buffered events.`,
    de: (id: number) => `Über den Webservice geht es ebenso: ActivateWebHook mit id=${id}, dazu replayEvents=1, um die gepufferten Ereignisse zu senden.`,
  },
};

/** The system notification of a deactivation, German or English. */
export function renderDeactivationMail(data: DeactivationMailData): RenderedMail {
  const t = inLanguage(texts, data.language);
  const date = (d: Date) => formatUtc(d, data.language);
  const { app, event, url, id } = data.webhook;
  const why = data.reason === 'gone' ? t.becauseGone : t.becauseFailures(data.failureCount, date(data.firstFailureAt), date(data.deactivatedAt));
  return renderMail({
    language: data.language,
    subject: t.subject(app, event),
    accent: '#c01c28',
    intro: t.intro(app, event, date(data.deactivatedAt), why),
    facts: failureFacts(url, data, data.timeoutSeconds, data.language),
    paragraphs: [t.buffer(data.bufferedEvents, date(data.bufferUntil))],
    lead: t.askFirst(data.timeoutSeconds),
    links: [
      { label: t.replay(data.bufferedEvents), href: data.replayUrl, primary: true },
      { label: t.reactivate, href: data.reactivateUrl, primary: false },
      portalButton(data.portalUrl, data.language),
    ],
    notes: [t.validity(date(data.linksValidUntil)), t.api(id)],
  });
}
