import type { AttemptOutcome } from '../domain/delivery.js';

/**
 * What the services need from the outside world, defined here so that the
 * services own their contracts and the transports implement them.
 */

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Called once the request goes onto its connection (after connecting, if it needed a new one). */
  onWritten?: () => void;
}

/** The addresses a host name resolves to; [] when it has none. Rejects when DNS does not answer in time. */
export type ResolveHost = (host: string) => Promise<string[]>;

/** Sends one webhook request; never throws for an answer or a network failure. */
export interface Sender {
  send(request: OutboundRequest): Promise<AttemptOutcome>;
  close(): Promise<void>;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface OutgoingMail extends RenderedMail {
  to: string;
  /** The same on every try, so that mail systems can recognise a resend. */
  messageId: string;
}

export interface Mailer {
  /** Resolves when the mail server accepted the mail; rejects within deadlineMs. */
  send(mail: OutgoingMail): Promise<void>;
  /** False when there is no mail server: a send keeps nothing and reaches nobody. */
  readonly sends: boolean;
  readonly deadlineMs: number;
  /** Ends the sends in flight at once (they reject); later sends work as before. */
  abort(): void;
}

export type MailLanguage = 'de' | 'en';

export interface MailWebhook {
  id: number;
  app: string;
  event: string;
  url: string;
}

export interface DeactivationMailData {
  language: MailLanguage;
  webhook: MailWebhook;
  reason: 'failures' | 'gone';
  failureClass: string;
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
  /** The webhook's page in the portal. */
  portalUrl: string;
  timeoutSeconds: number;
}

export interface WarningMailData {
  language: MailLanguage;
  webhook: MailWebhook;
  failureClass: string;
  statusCode: number | null;
  lastError: string;
  failureCount: number;
  firstFailureAt: Date;
  nextAttemptAt: Date;
  deactivateBy: Date;
  bufferDays: number;
  testUrl: string;
  linkValidUntil: Date;
  /** The webhook's page in the portal. */
  portalUrl: string;
  timeoutSeconds: number;
}

export interface GivenUpMailData {
  language: MailLanguage;
  webhook: MailWebhook;
  /** Deliveries given up since the previous such e-mail (since: null, ever). */
  givenUp: number;
  since: Date | null;
  failuresPerDelivery: number;
  /** The webhook's page in the portal: the given-up deliveries and what their server answered. */
  portalUrl: string;
}

/** The system e-mails, written by a transport in the account's language. */
export interface MailRenderer {
  deactivation(data: DeactivationMailData): RenderedMail;
  warning(data: WarningMailData): RenderedMail;
  givenUp(data: GivenUpMailData): RenderedMail;
}
