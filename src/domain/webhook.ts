import { invalid, missing } from './errors.js';

export const eventNames = ['optin_finalized', 'optout_finalized', 'profilemanager_finalized'] as const;
export type EventName = (typeof eventNames)[number];

export function isEventName(value: string): value is EventName {
  return (eventNames as readonly string[]).includes(value);
}

export interface WebHook {
  id: number;
  accountId: number;
  app: string;
  event: EventName;
  url: string;
  secret: string;
  active: boolean;
  createdAt: Date;
  deactivatedAt: Date | null;
  failureCount: number;
  lastError: string | null;
  bufferedEvents: number;
  /** The customer's throttle: at most this many requests in any second; null: no limit (the pace alone). */
  maxPerSecond: number | null;
  /** The names of the customer's own headers; their values are write-only. */
  headerNames: string[];
}

export const maxAppLength = 255;
export const maxPerSecondLimit = 1000;
export const maxUrlLength = 2048;

// Control characters and line separators forge log lines and terminal output; direction overrides and isolates make a name read as another.
const unprintable = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A webhook's name, as every way in (webservice, portal, Zapier) takes it. */
export function readApp(app: string): string {
  if (app.trim() === '') throw missing('app');
  if (app.length > maxAppLength) throw invalid('app', `is longer than ${maxAppLength} characters`);
  if (unprintable.test(app)) throw invalid('app', 'must not contain control characters or text direction marks');
  return app;
}
