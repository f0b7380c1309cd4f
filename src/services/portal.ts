import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Language } from '../domain/account.js';
import { webhookNotFound } from '../domain/errors.js';
import { inTransaction, type Pool } from '../storage/database.js';
import {
  deletePortalSession, insertPortalLink, insertPortalSession, setPortalSessionLanguage, touchPortalSession, usePortalLink,
} from '../storage/portalStore.js';
import { findWebhook } from '../storage/webhooksStore.js';

export interface PortalOptions {
  publicUrl: string;
  portalLinkMinutes: number;
  portalSessionMinutes: number;
}

export interface PortalSession {
  accountId: number;
  username: string;
  language: Language;
  csrf: string;
}

const secret = () => randomBytes(32).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may use the portal: a one-time sign-in link (GetPortalLink) opens a
 * session of one account; the database keeps only hashes of the link's token
 * and the session's cookie, so a copy of the database signs nobody in.
 */
export class PortalAccess {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: PortalOptions,
  ) {}

  /** A sign-in link valid for PORTAL_LINK_MINUTES, usable once; with a webhook, it opens that webhook's page. */
  async createLink(accountId: number, webhookId: number | undefined, language: Language | undefined, accountLanguage: Language): Promise<{ url: string; expiresAt: Date }> {
    if (webhookId !== undefined && !(await findWebhook(this.pool, accountId, webhookId))) throw webhookNotFound();
    const token = secret();
    const expiresAt = new Date(this.clock.now().getTime() + this.options.portalLinkMinutes * 60_000);
    await insertPortalLink(this.pool, { tokenHash: sha256(token), accountId, webhookId: webhookId ?? null, language: language ?? accountLanguage, expiresAt });
    return { url: `${this.options.publicUrl}/portal/signin?token=${token}`, expiresAt };
  }

  /** Uses a link: a new session (its cookie value) and where to go; undefined for a used, expired or unknown link. */
  async signIn(token: string): Promise<{ cookie: string; webhookId: number | null } | undefined> {
    if (!/^[\w-]{43}$/.test(token)) return undefined;
    const now = this.clock.now();
    return inTransaction(this.pool, async (tx) => {
      const link = await usePortalLink(tx, sha256(token), now);
      if (!link) return undefined;
      const cookie = secret();
      await insertPortalSession(tx, { idHash: sha256(cookie), accountId: link.accountId, language: link.language, csrf: secret() }, now);
      return { cookie, webhookId: link.webhookId };
    });
  }

  /** The session a cookie names, while it has not been idle for PORTAL_SESSION_MINUTES. */
  async session(cookie: string | undefined): Promise<PortalSession | undefined> {
    if (!cookie || !/^[\w-]{43}$/.test(cookie)) return undefined;
    const now = this.clock.now();
    return touchPortalSession(this.pool, sha256(cookie), new Date(now.getTime() - this.options.portalSessionMinutes * 60_000), now);
  }

  /** The service's time, for what the pages propose (the recovery's start). */
  now(): Date {
    return this.clock.now();
  }

  /** The session's pages in another language from now on. */
  async setLanguage(cookie: string, language: Language): Promise<void> {
    await setPortalSessionLanguage(this.pool, sha256(cookie), language);
  }

  async signOut(cookie: string): Promise<void> {
    await deletePortalSession(this.pool, sha256(cookie));
  }
}
