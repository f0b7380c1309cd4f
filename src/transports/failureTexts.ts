import { inLanguage, type Bilingual, type Language } from './i18n.js';

/** How an attempt failed, in words (old rows say `timeout` for either deadline). */
const names: Record<string, Bilingual> = {
  dns: { en: 'DNS lookup failed', de: 'DNS-Auflösung fehlgeschlagen' },
  connection_refused: { en: 'connection refused', de: 'Verbindung abgelehnt' },
  connection_reset: { en: 'connection closed early', de: 'Verbindung vorzeitig geschlossen' },
  tls: { en: 'TLS error', de: 'TLS-Fehler' },
  connect_timeout: { en: 'no connection in time', de: 'keine Verbindung in der Zeit' },
  response_timeout: { en: 'no answer in time', de: 'keine Antwort in der Zeit' },
  timeout: { en: 'timeout', de: 'Zeitüberschreitung' },
  redirect: { en: 'redirect', de: 'Weiterleitung' },
  http_status: { en: 'HTTP error status', de: 'HTTP-Fehlerstatus' },
  target_not_allowed: { en: 'address not allowed', de: 'Adresse nicht erlaubt' },
  network: { en: 'network error', de: 'Netzwerkfehler' },
};

// The sender's own texts of a failure (webhookSender's classify), in German; a
// receiver's answer ("HTTP 500: …") and a system's message stay as they came.
const germanErrors: Array<[RegExp, string]> = [
  [/^connection refused$/, 'Verbindung abgelehnt'],
  [/^connection closed before the answer$/, 'Verbindung vor der Antwort geschlossen'],
  [/^no connection within (\d+) ms$/, 'keine Verbindung innerhalb von $1 ms'],
  [/^no answer within (\d+) ms$/, 'keine Antwort innerhalb von $1 ms'],
  [/^DNS lookup timed out$/, 'DNS-Auflösung dauerte zu lange'],
  [/^DNS lookup failed \((\w+)\)$/, 'DNS-Auflösung fehlgeschlagen ($1)'],
  [/^TLS failed: /, 'TLS fehlgeschlagen: '],
];

/** A stored failure text as a page in this language shows it. */
export function errorText(text: string, language: Language): string {
  if (language === 'en') return text;
  for (const [english, german] of germanErrors) if (english.test(text)) return text.replace(english, german);
  return text;
}

export function failureName(failureClass: string, language: Language): string {
  return names[failureClass]?.[language] ?? failureClass;
}

const hints = {
  dns: {
    en: "The URL's host name could not be resolved. Check your server's DNS entry.",
    de: 'Der Hostname der URL ließ sich nicht auflösen. Prüfen Sie den DNS-Eintrag Ihres Servers.',
  },
  connectionRefused: {
    en: 'Your server refused the connection. Check that the web server is running and reachable on this port.',
    de: 'Ihr Server hat die Verbindung abgelehnt. Prüfen Sie, ob der Webserver läuft und auf diesem Port erreichbar ist.',
  },
  connectionReset: {
    en: 'Your server closed the connection without answering. Check its error log.',
    de: 'Ihr Server hat die Verbindung geschlossen, ohne zu antworten. Prüfen Sie das Fehlerprotokoll Ihres Servers.',
  },
  tls: {
    en: 'The encrypted connection failed. Check that the certificate is valid, not expired and issued for this host name.',
    de: 'Die verschlüsselte Verbindung kam nicht zustande. Prüfen Sie, ob das Zertifikat gültig, nicht abgelaufen und für diesen Hostnamen ausgestellt ist.',
  },
  connectTimeout: {
    en: (seconds: number) => `No connection to your server came about within ${seconds} seconds. Check that it is reachable from the internet (firewall, DNS).`,
    de: (seconds: number) => `Innerhalb von ${seconds} Sekunden kam keine Verbindung zu Ihrem Server zustande. Prüfen Sie, ob er aus dem Internet erreichbar ist (Firewall, DNS).`,
  },
  timeout: {
    en: (seconds: number) => `Your server did not answer within ${seconds} seconds. Answer at once with a 2xx status and process the event afterwards.`,
    de: (seconds: number) => `Ihr Server hat nicht innerhalb von ${seconds} Sekunden geantwortet. Antworten Sie sofort mit einem 2xx-Status und verarbeiten Sie das Ereignis danach.`,
  },
  redirect: {
    en: 'Your server answered with a redirect, and redirects are not followed. Register the final URL instead (DeleteWebHookById, then CreateWebHook).',
    de: 'Ihr Server hat mit einer Weiterleitung geantwortet; Weiterleitungen werden nicht verfolgt. Tragen Sie die endgültige URL ein (DeleteWebHookById, dann CreateWebHook).',
  },
  targetNotAllowed: {
    en: 'The host name now points to a private or local address, which webhooks may not reach.',
    de: 'Der Hostname zeigt inzwischen auf eine private oder lokale Adresse, die Webhooks nicht erreichen dürfen.',
  },
  gone: {
    en: 'Your server answered 410 Gone, which asks us to stop sending.',
    de: 'Ihr Server hat mit 410 Gone geantwortet und damit um das Ende der Zustellung gebeten.',
  },
  serverError: {
    en: (status: number) => `Your server had an internal error (HTTP ${status}). Check its error log.`,
    de: (status: number) => `Ihr Server hatte einen internen Fehler (HTTP ${status}). Prüfen Sie sein Fehlerprotokoll.`,
  },
  refused: {
    en: (status: number) => `Your server refused the request (HTTP ${status}). Check the URL and that it accepts JSON by POST.`,
    de: (status: number) => `Ihr Server hat die Anfrage abgelehnt (HTTP ${status}). Prüfen Sie die URL und ob sie JSON per POST annimmt.`,
  },
  network: {
    en: 'The connection failed. Check that your server can be reached from the internet.',
    de: 'Die Verbindung ist fehlgeschlagen. Prüfen Sie, ob Ihr Server aus dem Internet erreichbar ist.',
  },
};

/** One line that tells the customer what to fix, by how the attempt failed. */
export function hintFor(failure: { failureClass: string; statusCode: number | null }, timeoutSeconds: number, language: Language): string {
  const t = inLanguage(hints, language);
  const status = failure.statusCode ?? 0;
  switch (failure.failureClass) {
    case 'dns':
      return t.dns;
    case 'connection_refused':
      return t.connectionRefused;
    case 'connection_reset':
      return t.connectionReset;
    case 'tls':
      return t.tls;
    case 'connect_timeout':
      return t.connectTimeout(timeoutSeconds);
    case 'response_timeout':
    case 'timeout':
      return t.timeout(timeoutSeconds);
    case 'redirect':
      return t.redirect;
    case 'target_not_allowed':
      return t.targetNotAllowed;
    case 'http_status':
      return status === 410 ? t.gone : status >= 500 ? t.serverError(status) : t.refused(status);
    default:
      return t.network;
  }
}
