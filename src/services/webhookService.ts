import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../clock.js';
import { invalid, limitReached, webhookNotFound } from '../domain/errors.js';
import { bareHost, checkResolvedAddresses, parseTargetUrl, readTargetUrl } from '../domain/targetPolicy.js';
import { isEventName, maxAppLength, type EventName, type WebHook } from '../domain/webhook.js';
import { lockAccount } from '../storage/accountsStore.js';
import { inTransaction, type Pool } from '../storage/database.js';
import type { ResolveHost } from './ports.js';
import { discardBufferedDeliveries, requeueBufferedDeliveries } from '../storage/deliveriesStore.js';
import { markWebhookActivated } from '../storage/webhookLifecycleStore.js';
import {
  countWebhooks,
  deleteWebhook,
  findWebhook,
  insertWebhook,
  listWebhooks,
  type WebHookFilter,
} from '../storage/webhooksStore.js';


export interface WebhookServiceOptions {
  allowPrivateTargets: boolean;
  maxWebhooksPerAccount: number;
}

export interface Activation {
  webhook: WebHook;
  replayedEvents: number;
  alreadyActive: boolean;
}

export function validateApp(app: string): string {
  if (app.length > maxAppLength) throw invalid('app', `is longer than ${maxAppLength} characters`);
  return app;
}

export function validateEvent(event: string): EventName {
  if (!isEventName(event)) throw invalid('event', 'must be optin_finalized, optout_finalized or profilemanager_finalized');
  return event;
}

export interface NewWebhookInput {
  app: string;
  event: string;
  url: string;
}

/**
 * What can be said about a new webhook's parameters before the password is
 * checked, so that a malformed call answers 2 or 3 whoever sends it: the app's
 * length, the event, the URL's syntax. Whether the URL may be a target (5)
 * needs the network and comes after.
 */
export function readNewWebhook(input: NewWebhookInput): { app: string; event: EventName; url: string } {
  const app = validateApp(input.app);
  const event = validateEvent(input.event);
  readTargetUrl(input.url);
  return { app, event, url: input.url };
}

/** The use cases of the four webservice functions, for an authenticated account. */
export class WebhookService {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: WebhookServiceOptions,
    private readonly resolveHost: ResolveHost,
    private readonly onActivated: (webhookId: number) => void = () => undefined,
  ) {}

  /** Checks a target URL as CreateWebHook does: syntax, scheme, and where its host resolves. */
  async checkTargetUrl(raw: string): Promise<URL> {
    const url = parseTargetUrl(raw, this.options.allowPrivateTargets);
    const host = bareHost(url);
    if (isIP(host) === 0) checkResolvedAddresses(await this.resolveHost(host).catch(() => []), this.options.allowPrivateTargets);
    return url;
  }

  async create(accountId: number, input: NewWebhookInput, createdVia: 'webservice' | 'zapier' = 'webservice'): Promise<WebHook> {
    const { app, event } = readNewWebhook(input);
    await this.checkTargetUrl(input.url);
    const now = this.clock.now();
    return inTransaction(this.pool, async (tx) => {
      await lockAccount(tx, accountId);
      if ((await countWebhooks(tx, accountId)) >= this.options.maxWebhooksPerAccount) {
        throw limitReached(`an account may have at most ${this.options.maxWebhooksPerAccount} webhooks`);
      }
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      const id = await insertWebhook(tx, { accountId, app, event, url: input.url, secret, createdVia }, now);
      return (await findWebhook(tx, accountId, id))!;
    });
  }

  list(accountId: number, filter: WebHookFilter): Promise<WebHook[]> {
    return listWebhooks(this.pool, accountId, filter);
  }

  async activate(accountId: number, id: number, replayEvents: boolean): Promise<Activation> {
    const activation = await inTransaction(this.pool, async (tx) => {
      const webhook = await findWebhook(tx, accountId, id, true);
      if (!webhook) throw webhookNotFound();
      if (webhook.active) return { webhook, replayedEvents: 0, alreadyActive: true };
      const now = this.clock.now();
      const replayedEvents = replayEvents ? await requeueBufferedDeliveries(tx, id) : 0;
      if (!replayEvents) await discardBufferedDeliveries(tx, id, now);
      await markWebhookActivated(tx, id, now);
      return { webhook: (await findWebhook(tx, accountId, id))!, replayedEvents, alreadyActive: false };
    });
    if (!activation.alreadyActive) this.onActivated(id);
    return activation;
  }

  async delete(accountId: number, id: number): Promise<void> {
    if (!(await deleteWebhook(this.pool, accountId, id))) throw webhookNotFound();
  }
}
