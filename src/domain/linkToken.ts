import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed links in e-mails. A reactivation link names one deactivation of one
 * webhook; a test link names a webhook. Both expire, and the purpose is part of
 * the signature, so one kind can never be used as the other.
 */
export type LinkPurpose = 'reactivate' | 'test';

export interface LinkClaim {
  webhookId: number;
  /** The deactivation a reactivation link is about; 0 for a test link. */
  occasion: number;
  expiresAt: Date;
}

function sign(key: Buffer, purpose: string, text: string): Buffer {
  return createHmac('sha256', key).update(purpose).update('\0').update(text).digest();
}

/** `v1.<webhook>.<occasion>.<expires unix s>.<HMAC-SHA256, base64url>` */
export function createLinkToken(key: Buffer, purpose: LinkPurpose, claim: LinkClaim): string {
  const body = `v1.${claim.webhookId}.${claim.occasion}.${Math.floor(claim.expiresAt.getTime() / 1000)}`;
  return `${body}.${sign(key, purpose, body).toString('base64url')}`;
}

/**
 * The claim of a token whose signature holds for this purpose and that has not
 * expired; undefined for anything else, without saying which check failed.
 */
export function readLinkToken(key: Buffer, purpose: LinkPurpose, token: string, now: Date): LinkClaim | undefined {
  const match = /^(v1\.(\d{1,12})\.(\d{1,9})\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const expected = sign(key, purpose, match[1]!);
  const given = Buffer.from(match[5]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const expiresAt = new Date(Number(match[4]) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return undefined;
  return { webhookId: Number(match[2]), occasion: Number(match[3]), expiresAt };
}

/** A value only a page made for this token can post back (CSRF); `about` ties it to a step of the page. */
export function formProof(key: Buffer, token: string, about = 'csrf'): string {
  return sign(key, about, token).toString('base64url');
}

export function formProofMatches(key: Buffer, token: string, given: string, about = 'csrf'): boolean {
  const expected = Buffer.from(formProof(key, token, about));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
