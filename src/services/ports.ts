import type { AttemptOutcome } from '../domain/delivery.js';

/**
 * What the services need from the outside world, defined here so that the
 * services own their contracts and the transports implement them.
 */

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
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
  readonly deadlineMs: number;
  /** Ends the sends in flight at once (they reject); later sends work as before. */
  abort(): void;
}
