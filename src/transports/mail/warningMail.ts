import type { RenderedMail, WarningMailData } from '../../services/ports.js';
import { formatUtc } from '../html.js';
import { inLanguage } from '../i18n.js';
import { failureFacts, portalButton, renderMail } from './mailLayout.js';


const texts = {
  subject: { en: (app: string, event: string) => `Webhook failing: ${app} (${event})`, de: (app: string, event: string) => `Webhook schlägt fehl: ${app} (${event})` },
  intro: {
    en: (app: string, event: string, count: number, since: string) =>
      `The last ${count} attempts to deliver events of your webhook "${app}" (${event}) failed, the first on ${since}. The webhook is still active and we keep trying.`,
    de: (app: string, event: string, count: number, since: string) =>
      `Die letzten ${count} Versuche, Ereignisse Ihres Webhooks „${app}“ (${event}) zuzustellen, sind fehlgeschlagen, der erste am ${since}. Der Webhook ist weiterhin aktiv, und wir versuchen es weiter.`,
  },
  nextAttempt: { en: 'Next attempt', de: 'Nächster Versuch' },
  deactivateBy: { en: 'Deactivation', de: 'Deaktivierung' },
  deactivateByValue: {
    en: (at: string) => `at the latest on ${at}, if every attempt until then fails`,
    de: (at: string) => `spätestens am ${at}, wenn bis dahin jeder Versuch fehlschlägt`,
  },
  meanwhile: {
    en: (days: number) => `The events wait in their order meanwhile. Once the webhook is deactivated, its events of the following ${days} days are kept for a replay.`,
    de: (days: number) => `Die Ereignisse warten derweil in ihrer Reihenfolge. Wird der Webhook deaktiviert, bewahren wir seine Ereignisse der folgenden ${days} Tage für ein Nachsenden auf.`,
  },
  lead: {
    en: 'Once you have fixed it, test the URL: the page behind this link sends it a test request right away and shows the answer.',
    de: 'Wenn Sie den Fehler behoben haben, testen Sie die URL: Die Seite hinter diesem Link sendet ihr sofort eine Testanfrage und zeigt die Antwort.',
  },
  test: { en: 'Test the URL now', de: 'URL jetzt testen' },
  once: {
    en: 'This is the only warning for this run of failures: the next successful delivery ends it, and all waiting events follow.',
    de: 'Dies ist die einzige Warnung zu dieser Fehlerserie: Die nächste erfolgreiche Zustellung beendet sie, und alle wartenden Ereignisse folgen.',
  },
  validity: { en: (until: string) => `The link is valid until ${until}.`, de: (until: string) => `Der Link ist gültig bis ${until}.` },
  api: {
    en: (id: number) => `Through the webservice: TestWebHook with id=${id}; GetWebHookDeliveries shows every delivery and its last answer.`,
    de: (id: number) => `Über den Webservice: TestWebHook mit id=${id}; GetWebHookDeliveries zeigt jede Zustellung und ihre letzte Antwort.`,
  },
};

/** The warning of a run of failures, before deactivation, German or English. */
export function renderWarningMail(data: WarningMailData): RenderedMail {
  const t = inLanguage(texts, data.language);
  const date = (d: Date) => formatUtc(d, data.language);
  const { app, event, url, id } = data.webhook;
  return renderMail({
    language: data.language,
    subject: t.subject(app, event),
    accent: '#e5a50a',
    intro: t.intro(app, event, data.failureCount, date(data.firstFailureAt)),
    facts: [
      ...failureFacts(url, data, data.timeoutSeconds, data.language),
      [t.nextAttempt, date(data.nextAttemptAt)],
      [t.deactivateBy, t.deactivateByValue(date(data.deactivateBy))],
    ],
    paragraphs: [t.meanwhile(data.bufferDays)],
    lead: t.lead,
    links: [{ label: t.test, href: data.testUrl, primary: true }, portalButton(data.portalUrl, data.language)],
    notes: [t.once, t.validity(date(data.linkValidUntil)), t.api(id)],
  });
}
