import type { GivenUpMailData, RenderedMail } from '../../services/ports.js';
import { formatUtc } from '../html.js';
import { inLanguage } from '../i18n.js';
import { renderMail } from './mailLayout.js';


const texts = {
  subject: {
    en: (app: string, n: number) => `Webhook ${app}: ${n} ${n === 1 ? 'delivery' : 'deliveries'} given up`,
    de: (app: string, n: number) => `Webhook ${app}: ${n} ${n === 1 ? 'Zustellung' : 'Zustellungen'} aufgegeben`,
  },
  intro: {
    en: (app: string, event: string, n: number, tries: number, since: string | undefined) =>
      `${since ? `Since ${since}, we` : 'We'} gave up ${n} ${n === 1 ? 'delivery' : 'deliveries'} of your webhook "${app}" (${event}): your server refused ${n === 1 ? 'it' : 'each of them'} ${tries} times in a row while it accepted other events. The webhook stays active, and the later events of the same subscribers were delivered after them.`,
    de: (app: string, event: string, n: number, tries: number, since: string | undefined) =>
      `${since ? `Seit ${since} haben wir` : 'Wir haben'} ${n} ${n === 1 ? 'Zustellung' : 'Zustellungen'} Ihres Webhooks „${app}“ (${event}) aufgegeben: Ihr Server hat ${n === 1 ? 'sie' : 'jede davon'} ${tries}-mal hintereinander abgelehnt, während er andere Ereignisse annahm. Der Webhook bleibt aktiv, und die späteren Ereignisse derselben Abonnenten wurden danach zugestellt.`,
  },
  count: { en: 'Given up', de: 'Aufgegeben' },
  paragraph: {
    en: 'Given-up deliveries are kept with their events and your server\'s answers, and can be sent again once your server accepts them.',
    de: 'Aufgegebene Zustellungen bleiben mit ihren Ereignissen und den Antworten Ihres Servers gespeichert und können erneut gesendet werden, sobald Ihr Server sie annimmt.',
  },
  lead: { en: 'See which ones, and what your server answered:', de: 'Welche es sind und was Ihr Server antwortete:' },
  look: { en: 'Show them in the portal', de: 'Im Portal anzeigen' },
  api: {
    en: (id: number) => `Through the webservice: GetWebHookDeliveries with id=${id} and status=failed lists them.`,
    de: (id: number) => `Über den Webservice: GetWebHookDeliveries mit id=${id} und status=failed listet sie auf.`,
  },
  daily: {
    en: 'You get at most one such e-mail a day per webhook.',
    de: 'Sie erhalten höchstens eine solche E-Mail am Tag je Webhook.',
  },
};

/** Deliveries given up while the endpoint succeeded elsewhere: at most one such e-mail a day per webhook, German or English. */
export function renderGivenUpMail(data: GivenUpMailData): RenderedMail {
  const t = inLanguage(texts, data.language);
  const { app, event, url, id } = data.webhook;
  return renderMail({
    language: data.language,
    subject: t.subject(app, data.givenUp),
    accent: '#e5a50a',
    intro: t.intro(app, event, data.givenUp, data.failuresPerDelivery, data.since ? formatUtc(data.since, data.language) : undefined),
    facts: [['URL', url], [t.count, String(data.givenUp)]],
    paragraphs: [t.paragraph],
    lead: t.lead,
    links: [{ label: t.look, href: data.portalUrl, primary: true }],
    notes: [t.api(id), t.daily],
  });
}
