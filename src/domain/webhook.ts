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
}

export const maxAppLength = 255;
export const maxUrlLength = 2048;
