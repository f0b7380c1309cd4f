/**
 * German and English texts of pages and e-mails, written side by side so that
 * no text exists in one language only:
 *
 *   const texts = { title: { en: 'Reactivate webhook', de: 'Webhook reaktivieren' },
 *                   buffered: { en: (n: number) => `${n} events`, de: (n: number) => `${n} Ereignisse` } };
 *   const t = inLanguage(texts, 'de');   // t.title, t.buffered(3)
 */
export type Language = 'de' | 'en';

export type Bilingual<T = string> = { en: T; de: T };

export function inLanguage<T extends Record<string, Bilingual<unknown>>>(texts: T, language: Language): { [K in keyof T]: T[K]['en'] } {
  return Object.fromEntries(Object.entries(texts).map(([key, text]) => [key, text[language]])) as { [K in keyof T]: T[K]['en'] };
}

const pluralRules: Record<Language, Intl.PluralRules> = { en: new Intl.PluralRules('en'), de: new Intl.PluralRules('de') };

/**
 * The singular or plural text for a count, as the language's plural rules
 * choose (in both languages: one for 1, other for the rest, 0 included):
 *   de: (n) => counted.de(n, 'Ein Ereignis wird gesendet', `${n} Ereignisse werden gesendet`)
 */
export const counted: Record<Language, (n: number, one: string, other: string) => string> = {
  en: (n, one, other) => (pluralRules.en.select(n) === 'one' ? one : other),
  de: (n, one, other) => (pluralRules.de.select(n) === 'one' ? one : other),
};

export function languageOf(value: unknown): Language {
  return value === 'de' ? 'de' : 'en';
}
