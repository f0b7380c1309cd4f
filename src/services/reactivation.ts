import type { Clock } from '../clock.js';
import { csrfMatches, csrfValueFor, readReactivationToken } from '../domain/reactivationToken.js';
import type { Pool } from '../storage/database.js';
import { findWebhookWithAccount, type WebHookWithAccount } from '../storage/webhooksStore.js';
import type { WebhookService } from './webhookService.js';

export type ReactivationView =
  | { state: 'invalid' }
  | { state: 'valid'; webhook: WebHookWithAccount; csrf: string; bufferUntil: Date };

export type ReactivationResult =
  | { state: 'invalid' }
  | { state: 'reactivated'; webhook: WebHookWithAccount; replayedEvents: number };

const day = 86_400_000;

/**
 * The one-click link of the notification e-mail. A token is good while its
 * signature holds, it has not expired, and the deactivation it names is the
 * webhook's current one and still lasts; every other case looks the same.
 */
export class ReactivationService {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly webhooks: WebhookService,
    private readonly tokenKey: () => Promise<Buffer>,
    private readonly bufferDays: number,
  ) {}

  private async currentDeactivation(token: string): Promise<WebHookWithAccount | undefined> {
    const claim = readReactivationToken(await this.tokenKey(), token, this.clock.now());
    if (!claim) return undefined;
    const webhook = await findWebhookWithAccount(this.pool, claim.webhookId);
    if (!webhook || webhook.active || webhook.deactivations !== claim.deactivation) return undefined;
    return webhook;
  }

  /** What the page shows; changes nothing (mail scanners fetch links). */
  async inspect(token: string): Promise<ReactivationView> {
    const webhook = await this.currentDeactivation(token);
    if (!webhook) return { state: 'invalid' };
    const bufferUntil = new Date((webhook.deactivatedAt ?? this.clock.now()).getTime() + this.bufferDays * day);
    return { state: 'valid', webhook, csrf: csrfValueFor(await this.tokenKey(), token), bufferUntil };
  }

  /** The confirmed form: reactivates through the same code as ActivateWebHook. */
  async confirm(token: string, csrf: string, replay: boolean): Promise<ReactivationResult> {
    const webhook = await this.currentDeactivation(token);
    if (!webhook || !csrfMatches(await this.tokenKey(), token, csrf)) return { state: 'invalid' };
    const activation = await this.webhooks.activate(webhook.accountId, webhook.id, replay);
    // Someone else reactivated in between: this link's deactivation is over.
    if (activation.alreadyActive) return { state: 'invalid' };
    return { state: 'reactivated', webhook: { ...webhook, ...activation.webhook }, replayedEvents: activation.replayedEvents };
  }
}
