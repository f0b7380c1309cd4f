import { createHmac } from 'node:crypto';

/** The HMAC key of a `whsec_` secret: its base64 part, as the Standard Webhooks libraries read it. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/**
 * The Standard Webhooks signature header: `v1,` + base64 HMAC-SHA256 of
 * `id.timestamp.body` for each key, space-separated (while a rotated secret's
 * old one still counts, both sign), so that receivers can verify with the
 * Standard Webhooks libraries as they are.
 */
export function signatureHeader(keys: Buffer[], messageId: string, timestamp: number, body: string): string {
  const signed = `${messageId}.${timestamp}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(signed).digest('base64')}`).join(' ');
}

/**
 * The headers of one signed request: the Standard Webhooks three, and the
 * event's name for receivers that route by header.
 */
export function signedHeaders(keys: Buffer[], messageId: string, event: string, at: Date, body: string): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(keys, messageId, timestamp, body),
    'x-webhook-event': event,
  };
}

/** The keys that sign now: the secret, and a rotated-out one while its overlap lasts. */
export function signingKeys(secrets: { secret: string; previousSecret: string | null; previousSecretUntil: Date | null }, now: Date): Buffer[] {
  const keys = [signingKey(secrets.secret)];
  if (secrets.previousSecret && secrets.previousSecretUntil && secrets.previousSecretUntil > now) keys.push(signingKey(secrets.previousSecret));
  return keys;
}

export function signPayload(secret: string, messageId: string, timestamp: number, body: string): string {
  return signatureHeader([signingKey(secret)], messageId, timestamp, body);
}

/** webhook-id: unique per delivery and the same on every retry, so receivers can deduplicate. */
export function messageIdOf(deliveryId: number): string {
  return `msg_${deliveryId}`;
}

/** The delivery a webhook-id names; undefined when it is not one of ours. */
export function deliveryIdOf(messageId: string): number | undefined {
  const match = /^msg_([1-9]\d{0,17})$/.exec(messageId);
  return match ? Number(match[1]) : undefined;
}

/**
 * Where an event stands among its webhook's events: its own number, and the
 * number of the same subscriber's previous event (0: none kept), so that a
 * receiver can prove per subscriber that nothing is missing.
 */
export interface Sequence {
  sequence: number;
  previousSequence: number;
}

export function sequenceHeaders(sequence: Sequence): Record<string, string> {
  return { 'webhook-sequence': String(sequence.sequence), 'webhook-previous-sequence': String(sequence.previousSequence) };
}
