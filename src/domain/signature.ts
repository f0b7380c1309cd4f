import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of
 * `id.timestamp.body`, keyed with the base64 part of the `whsec_` secret, so
 * that receivers can verify with the Standard Webhooks libraries as they are.
 */
export function signPayload(secret: string, messageId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestamp}.${body}`).digest('base64')}`;
}

/** webhook-id: unique per delivery and the same on every retry, so receivers can deduplicate. */
export function messageIdOf(deliveryId: number): string {
  return `msg_${deliveryId}`;
}
