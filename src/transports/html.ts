import type { Response } from 'express';

import type { Language } from './i18n.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `4 May 2026, 08:02 UTC` / `04.05.2026, 08:02 UTC`: how the e-mail and the pages show a time. */
export function formatUtc(date: Date, language: Language): string {
  const text = new Intl.DateTimeFormat(language === 'de' ? 'de-DE' : 'en-GB', {
    timeZone: 'UTC', day: language === 'de' ? '2-digit' : 'numeric', month: language === 'de' ? '2-digit' : 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(date);
  return `${text} UTC`;
}

/**
 * For the pages: no framing, no referrer (a reactivation URL holds its token),
 * nothing cached, and scripts only from this origin when the page has any.
 */
export function setPageSecurityHeaders(res: Response, options: { ownScripts: boolean; frameAncestors?: string }): void {
  const ancestors = options.frameAncestors ?? "'none'";
  res.set({
    'content-security-policy': `default-src 'none'; ${options.ownScripts ? "script-src 'self'; " : ''}style-src 'unsafe-inline'; form-action 'self'; frame-ancestors ${ancestors}; base-uri 'none'`,
    // The older header knows no list of origins: it is sent only where nobody may frame the page.
    ...(options.frameAncestors ? {} : { 'x-frame-options': 'DENY' }),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
}
