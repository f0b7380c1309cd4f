import type { RenderedMail } from '../../services/ports.js';
import { failureName, hintFor } from '../failureTexts.js';
import { escapeHtml } from '../html.js';
import { inLanguage, type Language } from '../i18n.js';

const texts = {
  greeting: { en: 'Hello,', de: 'Guten Tag,' },
  lastError: { en: 'Last error', de: 'Letzter Fehler' },
  whatToDo: { en: 'What to do', de: 'Was zu tun ist' },
  signature: { en: 'Your newsletter team', de: 'Ihr Newsletter-Team' },
  portal: { en: 'Open the webhook in the portal', de: 'Webhook im Portal öffnen' },
};

/** The link every notification about a webhook ends with, beside its own: the webhook's page in the portal. */
export function portalButton(portalUrl: string, language: Language): MailContent['links'][number] {
  return { label: inLanguage(texts, language).portal, href: portalUrl, primary: false };
}

/** What a system e-mail says, in the order it says it. */
export interface MailContent {
  language: Language;
  subject: string;
  /** The colour of the line under the heading: what kind of news this is. */
  accent: string;
  intro: string;
  facts: Array<[label: string, value: string]>;
  paragraphs: string[];
  /** What to do, right before the links. */
  lead: string;
  links: Array<{ label: string; href: string; primary: boolean }>;
  notes: string[];
}

/** The facts every notification about failures begins with: where it was sent, what failed, and what to do about it. */
export function failureFacts(
  url: string,
  failure: { failureClass: string; statusCode: number | null; lastError: string },
  timeoutSeconds: number,
  language: Language,
): MailContent['facts'] {
  const t = inLanguage(texts, language);
  return [
    ['URL', url],
    [t.lastError, `${failureName(failure.failureClass, language)}: ${failure.lastError}`],
    [t.whatToDo, hintFor(failure, timeoutSeconds, language)],
  ];
}

/**
 * Text and HTML of a system e-mail. The text part has each link on a line of
 * its own under its label; the HTML part is a single-column table layout that
 * mail clients render alike, every value escaped.
 */
export function renderMail(content: MailContent): RenderedMail {
  const { greeting, signature } = inLanguage(texts, content.language);
  const text = [
    greeting, '', content.intro, '',
    ...content.facts.map(([label, value]) => `${label}: ${value}`), '',
    ...content.paragraphs.flatMap((paragraph) => [paragraph, '']),
    content.lead, '',
    ...content.links.flatMap((link) => [`${link.label}:`, link.href, '']),
    ...content.notes, '', signature, '',
  ].join('\n');

  const e = escapeHtml;
  const button = (link: MailContent['links'][number]) =>
    `<a href="${e(link.href)}" style="display:inline-block;margin:0 8px 8px 0;padding:10px 16px;border-radius:4px;text-decoration:none;font-weight:bold;` +
    (link.primary ? 'background:#1a5fb4;color:#ffffff;' : 'background:#ffffff;color:#1a5fb4;border:1px solid #1a5fb4;') + `">${e(link.label)}</a>`;
  const fact = ([label, value]: [string, string]) =>
    `<tr><td style="padding:4px 12px 4px 0;color:#555555;vertical-align:top;white-space:nowrap;">${e(label)}</td><td style="padding:4px 0;word-break:break-all;">${e(value)}</td></tr>`;
  const html = `<!DOCTYPE html>
<html lang="${content.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(content.subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f4;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:6px;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222222;">
<tr><td style="padding:20px 24px;border-bottom:3px solid ${content.accent};font-size:20px;font-weight:bold;">${e(content.subject)}</td></tr>
<tr><td style="padding:20px 24px;">
<p style="margin:0 0 12px 0;">${e(greeting)}</p>
<p style="margin:0 0 16px 0;">${e(content.intro)}</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px 0;font-size:14px;">${content.facts.map(fact).join('')}</table>
${content.paragraphs.map((paragraph) => `<p style="margin:0 0 16px 0;">${e(paragraph)}</p>`).join('\n')}
<p style="margin:0 0 12px 0;">${e(content.lead)}</p>
<p style="margin:0 0 8px 0;">${content.links.map(button).join('')}</p>
<p style="margin:8px 0 0 0;font-size:13px;color:#555555;">${content.notes.map(e).join(' ')}</p>
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #eeeeee;font-size:13px;color:#555555;">${e(signature)}</td></tr>
</table></td></tr></table>
</body></html>
`;
  return { subject: content.subject, text, html };
}
