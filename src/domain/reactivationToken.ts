import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a reactivation link names: one deactivation of one webhook, until a time. */
export interface ReactivationClaim {
  webhookId: number;
  deactivation: number;
  expiresAt: Date;
}

function sign(key: Buffer, purpose: string, text: string): Buffer {
  return createHmac('sha256', key).update(purpose).update('\0').update(text).digest();
}

/** `v1.<webhook>.<deactivation>.<expires unix s>.<HMAC-SHA256, base64url>` */
export function createReactivationToken(key: Buffer, claim: ReactivationClaim): string {
  const body = `v1.${claim.webhookId}.${claim.deactivation}.${Math.floor(claim.expiresAt.getTime() / 1000)}`;
  return `${body}.${sign(key, 'reactivate', body).toString('base64url')}`;
}

/**
 * The claim of a token whose signature holds and that has not expired;
 * undefined for anything else, without saying which check failed.
 */
export function readReactivationToken(key: Buffer, token: string, now: Date): ReactivationClaim | undefined {
  const match = /^(v1\.(\d{1,12})\.(\d{1,9})\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const expected = sign(key, 'reactivate', match[1]!);
  const given = Buffer.from(match[5]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const expiresAt = new Date(Number(match[4]) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return undefined;
  return { webhookId: Number(match[2]), deactivation: Number(match[3]), expiresAt };
}

/** The form's CSRF value: only a page made for this token can post it. */
export function csrfValueFor(key: Buffer, token: string): string {
  return sign(key, 'csrf', token).toString('base64url');
}

export function csrfMatches(key: Buffer, token: string, given: string): boolean {
  const expected = Buffer.from(csrfValueFor(key, token));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
