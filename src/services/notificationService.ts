import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createLinkToken } from '../domain/linkToken.js';
import { inTransaction, type Pool } from '../storage/database.js';
import {
  anyNotificationDue,
  claimDueNotifications,
  countGivenUpSince,
  markNotificationFailed,
  markNotificationDone,
  type DueNotification,
} from '../storage/notificationsStore.js';
import type { Mailer, MailRenderer, RenderedMail } from './ports.js';
import type { BackgroundJob } from './jobSchedule.js';
import type { Observer } from './observer.js';

export interface NotificationOptions {
  publicUrl: string;
  bufferDays: number;
  tokenTtlDays: number;
  deliveryTimeoutMs: number;
  deactivateAfterFailures: number;
}

const day = 86_400_000;
// Waits after the 1st, 2nd, … failed send; the last repeats. An SMTP outage delays, never drops.
const sendRetrySeconds = [60, 300, 900, 3600];
const perRun = 20;

/** The link a customer clicks; replay preselects "send the buffered events" on the page. */
export function reactivationLink(publicUrl: string, token: string, replay: boolean): string {
  return `${publicUrl}/webhooks/reactivate?token=${encodeURIComponent(token)}${replay ? '&replay=1' : ''}`;
}

export function testLink(publicUrl: string, token: string): string {
  return `${publicUrl}/webhooks/test?token=${encodeURIComponent(token)}`;
}

/** A webhook's page in the portal (it asks to sign in through the platform when no session is open). */
export function portalLink(publicUrl: string, webhookId: number): string {
  return `${publicUrl}/portal/webhooks/${webhookId}`;
}

/**
 * Sends the system notifications by e-mail: a deactivation, the warning of a
 * run of failures before it, and deliveries given up. The e-mail is rendered when sent (so it
 * tells the buffered count of that moment), stored with the notification, and
 * retried with backoff while SMTP fails.
 */
export class NotificationService implements BackgroundJob {
  readonly name = 'notifications';
  readonly intervalMs = 1000;
  // Each notification is claimed on its own, with a lease well past the mailer's
  // deadline, so that no send can outlive its lease and be sent twice.
  private readonly leaseMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly mailer: Mailer,
    private readonly mails: MailRenderer,
    private readonly tokenKey: () => Promise<Buffer>,
    private readonly log: Logger,
    private readonly observer: Observer,
    private readonly options: NotificationOptions,
    private readonly worker: string,
  ) {
    this.leaseMs = 2 * mailer.deadlineMs + 60_000;
  }

  async run(): Promise<number> {
    if (!(await anyNotificationDue(this.pool, this.clock.now()))) return 0;
    let sent = 0;
    for (; sent < perRun; sent += 1) {
      const now = this.clock.now();
      const [notification] = await inTransaction(this.pool, (tx) => claimDueNotifications(tx, this.worker, now, new Date(now.getTime() + this.leaseMs), 1));
      if (!notification) break;
      await this.send(notification);
    }
    return sent;
  }

  interrupt(): void {
    this.mailer.abort();
  }

  async render(notification: DueNotification): Promise<RenderedMail> {
    const { webhook, account } = notification;
    const timeoutSeconds = Math.round(this.options.deliveryTimeoutMs / 1000);
    if (notification.kind === 'deliveries_given_up') {
      const since = notification.details.since === null ? null : new Date(notification.details.since);
      return this.mails.givenUp({
        language: account.language,
        webhook,
        givenUp: await countGivenUpSince(this.pool, webhook.id, since),
        since,
        failuresPerDelivery: this.options.deactivateAfterFailures,
        portalUrl: portalLink(this.options.publicUrl, webhook.id),
      });
    }
    if (notification.kind === 'webhook_failing') {
      const { details } = notification;
      const linkValidUntil = new Date(this.clock.now().getTime() + this.options.tokenTtlDays * day);
      const token = createLinkToken(await this.tokenKey(), 'test', { webhookId: webhook.id, occasion: 0, expiresAt: linkValidUntil });
      return this.mails.warning({
        language: account.language,
        webhook,
        failureClass: details.failureClass,
        statusCode: details.statusCode,
        lastError: details.lastError,
        failureCount: details.failureCount,
        firstFailureAt: new Date(details.firstFailureAt),
        nextAttemptAt: new Date(details.nextAttemptAt),
        deactivateBy: new Date(details.deactivateBy),
        bufferDays: this.options.bufferDays,
        testUrl: testLink(this.options.publicUrl, token),
        linkValidUntil,
        portalUrl: portalLink(this.options.publicUrl, webhook.id),
        timeoutSeconds,
      });
    }
    const { details } = notification;
    const deactivatedAt = new Date(details.deactivatedAt);
    const linksValidUntil = new Date(deactivatedAt.getTime() + this.options.tokenTtlDays * day);
    const token = createLinkToken(await this.tokenKey(), 'reactivate', { webhookId: webhook.id, occasion: notification.deactivation, expiresAt: linksValidUntil });
    return this.mails.deactivation({
      language: account.language,
      webhook,
      reason: details.reason,
      failureClass: details.failureClass,
      statusCode: details.statusCode,
      lastError: details.lastError,
      failureCount: details.failureCount,
      firstFailureAt: new Date(details.firstFailureAt),
      deactivatedAt,
      bufferedEvents: webhook.bufferedEvents,
      bufferUntil: new Date(deactivatedAt.getTime() + this.options.bufferDays * day),
      linksValidUntil,
      reactivateUrl: reactivationLink(this.options.publicUrl, token, false),
      replayUrl: reactivationLink(this.options.publicUrl, token, true),
      portalUrl: portalLink(this.options.publicUrl, webhook.id),
      timeoutSeconds,
    });
  }

  private async send(notification: DueNotification): Promise<void> {
    const mail = await this.render(notification);
    const host = new URL(this.options.publicUrl).hostname;
    try {
      await this.mailer.send({ ...mail, to: notification.account.email, messageId: `<notification-${notification.id}@${host}>` });
    } catch (error) {
      const wait = sendRetrySeconds[Math.min(notification.sendAttempts, sendRetrySeconds.length - 1)]!;
      const nextAttemptAt = new Date(this.clock.now().getTime() + wait * 1000);
      const message = error instanceof Error ? error.message : String(error);
      await markNotificationFailed(this.pool, notification.id, this.worker, { error: message, nextAttemptAt, mail });
      this.observer.notification('failed');
      this.log.warn({ notification: notification.id, webhook: notification.webhookId, error: message, nextAttemptAt }, 'notification e-mail failed; will retry');
      return;
    }
    const result = this.mailer.sends ? 'sent' : 'stored';
    await markNotificationDone(this.pool, notification.id, this.worker, { result, mail }, this.clock.now());
    this.observer.notification(result);
    // Not the text: it carries reactivation links (secrets) and a receiver's answer (which may echo personal data).
    if (result === 'sent') this.log.info({ notification: notification.id, webhook: notification.webhookId }, 'notification e-mail sent');
    else {
      this.log.info(
        { notification: notification.id, webhook: notification.webhookId },
        `notification e-mail not sent: SMTP_URL is not set; it is stored, read it with: webhooks notifications --webhook ${notification.webhookId}`,
      );
    }
  }
}
