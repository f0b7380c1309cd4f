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

export function signPayload(secret: string, messageId: string, timestamp: number, body: string): string {
  return signatureHeader([signingKey(secret)], messageId, timestamp, body);
}

/** webhook-id: unique per delivery and the same on every retry, so receivers can deduplicate. */
export function messageIdOf(deliveryId: number): string {
  return `msg_${deliveryId}`;
}
