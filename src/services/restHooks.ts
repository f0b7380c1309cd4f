import { samplePayloads } from '../domain/event.js';
import type { WebHook } from '../domain/webhook.js';
import type { Pool } from '../storage/database.js';
import { recentPayloads } from '../storage/eventsStore.js';
import type { Account } from './authenticator.js';
import { validateEvent, type WebhookService } from './webhookService.js';

const zapierApp = 'zapier';
const samplesShown = 3;

/**
 * Zapier's REST Hooks on top of webhooks: subscribing creates a webhook with
 * app `zapier` (under the same URL policy and limits as CreateWebHook), and
 * unsubscribing deletes it; a 410 Gone from such a webhook's receiver deletes
 * it too (the worker's part). Samples show a trigger's fields before the
 * first real event.
 */
export class RestHooks {
  constructor(
    private readonly pool: Pool,
    private readonly webhooks: WebhookService,
  ) {}

  subscribe(account: Account, input: { hookUrl: unknown; event: unknown }): Promise<WebHook> {
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return this.webhooks.create(account.id, { app: zapierApp, event: text(input.event), url: text(input.hookUrl) }, 'zapier');
  }

  unsubscribe(account: Account, id: number): Promise<void> {
    return this.webhooks.delete(account.id, id);
  }

  /** Up to three recent payloads of the event, newest first; the documented sample when there is none yet. */
  async samples(account: Account, eventText: string): Promise<unknown[]> {
    const event = validateEvent(eventText);
    const payloads = await recentPayloads(this.pool, account.id, event, samplesShown);
    return payloads.length > 0 ? payloads.map((payload) => JSON.parse(payload) as unknown) : [samplePayloads[event]];
  }
}
