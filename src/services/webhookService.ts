import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../clock.js';
import { ApiError, ErrorCode, invalid, limitReached, webhookNotFound } from '../domain/errors.js';
import { bareHost, checkResolvedAddresses, parseTargetUrl, readTargetUrl } from '../domain/targetPolicy.js';
import { isEventName, maxPerSecondLimit, readApp, type EventName, type WebHook } from '../domain/webhook.js';
import { optionalPerSecond, optionalText, type RawParameters } from '../domain/parameters.js';
import { lockAccount } from '../storage/accountsStore.js';
import { inTransaction, type Pool, type PoolConnection } from '../storage/database.js';
import type { AttemptOutcome } from '../domain/delivery.js';
import { signedHeaders, signingKeys } from '../domain/signature.js';
import type { ResolveHost, Sender } from './ports.js';
import {
  countRecoverableDeliveries,
  deliveryExists,
  discardBufferedDeliveries,
  listDeliveries,
  requeueBufferedDeliveries,
  requeueFinishedDelivery,
  requeueRecoverableDeliveries,
  resendableStatuses,
  type DeliveryFilter,
  type DeliveryView,
} from '../storage/deliveriesStore.js';
import { attemptsOfDelivery, type DeliveryAttempt } from '../storage/attemptsStore.js';
import { makeWebhookDue, markWebhookActivated, restartAtNewUrl } from '../storage/webhookLifecycleStore.js';
import { applyHeaderChanges, readHeaderChanges, withCustomHeaders, type CustomHeader, type HeaderChange } from '../domain/customHeaders.js';
import {
  countTestRequest,
  changeWebhook,
  countWebhooks,
  deleteWebhook,
  findCustomHeaders,
  findSendingTarget,
  findWebhook,
  insertWebhook,
  listWebhooks,
  replaceSecret,
  type WebHookFilter,
} from '../storage/webhooksStore.js';

export interface WebhookServiceOptions {
  allowPrivateTargets: boolean;
  maxWebhooksPerAccount: number;
  webhookTestsPerMinute: number;
  payloadRetentionDays: number;
  recoverMaxDeliveries: number;
}

/** The event name of test requests: never one a webhook subscribes to. */
export const testEvent = 'webhook_test';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export interface Activation {
  webhook: WebHook;
  replayedEvents: number;
  alreadyActive: boolean;
}

export function validateEvent(event: string): EventName {
  if (!isEventName(event)) throw invalid('event', 'must be optin_finalized, optout_finalized or profilemanager_finalized');
  return event;
}

export interface NewWebhookInput {
  app: string;
  event: string;
  url: string;
  /** The customer's throttle; absent or null: none. */
  maxPerSecond?: number | null;
  headers?: CustomHeader[];
}

/** An UpdateWebHook call's change, read and checked as far as it can be without the account. */
export interface WebhookUpdate {
  app?: string;
  url?: string;
  maxPerSecond?: number | null;
  /** The whole new list; a header without a value keeps the one stored under its name. */
  headers?: HeaderChange[];
}

/**
 * What can be said about a new webhook's parameters before the password is
 * checked, so that a malformed call answers 2 or 3 whoever sends it: the app's
 * length, the event, the URL's syntax. Whether the URL may be a target (5)
 * needs the network and comes after.
 */
export function readNewWebhook(input: NewWebhookInput): { app: string; event: EventName; url: string } {
  const app = readApp(input.app);
  const event = validateEvent(input.event);
  readTargetUrl(input.url);
  return { app, event, url: input.url };
}

/** UpdateWebHook's fields: an absent one stays as it is; maxPerSecond 0 or empty removes the throttle. */
export function readWebhookUpdate(params: RawParameters): WebhookUpdate {
  const app = optionalText(params, 'app');
  const url = optionalText(params, 'url');
  if (url !== undefined) readTargetUrl(url);
  return {
    app: app === undefined ? undefined : readApp(app),
    url,
    maxPerSecond: params.maxPerSecond === undefined ? undefined : optionalPerSecond(params, 'maxPerSecond', maxPerSecondLimit),
    headers: params.headers === undefined ? undefined : readHeaderChanges(params.headers),
  };
}

/** The use cases of the webservice functions, for an authenticated account. */
export class WebhookService {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly options: WebhookServiceOptions,
    private readonly resolveHost: ResolveHost,
    private readonly sender: Sender,
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
      const maxPerSecond = input.maxPerSecond ?? null;
      const headers = input.headers ?? [];
      const id = await insertWebhook(tx, { accountId, app, event, url: input.url, secret: newSecret(), createdVia, maxPerSecond, headers }, now);
      return (await findWebhook(tx, accountId, id))!;
    });
  }

  /**
   * Changes a webhook in place: it keeps its id, secret, sequence numbers,
   * queue and buffer. A new URL is checked as at creation and starts with a
   * clean failure record (see restartAtNewUrl).
   */
  async update(accountId: number, id: number, update: WebhookUpdate): Promise<WebHook> {
    if (update.url !== undefined) await this.checkTargetUrl(update.url);
    return inTransaction(this.pool, async (tx) => {
      const webhook = await findWebhook(tx, accountId, id, true);
      if (!webhook) throw webhookNotFound();
      // The stored values are read only when a header keeps its own.
      const keeps = update.headers?.some((header) => header.value === null);
      const headers = update.headers && applyHeaderChanges(keeps ? await findCustomHeaders(tx, id) : [], update.headers);
      await changeWebhook(tx, id, { app: update.app, url: update.url, maxPerSecond: update.maxPerSecond, headers });
      if (update.url !== undefined && update.url !== webhook.url) await restartAtNewUrl(tx, id, this.clock.now());
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

  /**
   * Sends a signed test request to the webhook's URL now, active or not,
   * through the deliveries' sender (address policy, deadline): changes nothing,
   * and at most webhookTestsPerMinute per webhook, counted in the database
   * so that every API process shares the count.
   */
  async test(accountId: number, id: number): Promise<AttemptOutcome> {
    const now = this.clock.now();
    const count = await countTestRequest(this.pool, accountId, id, now, new Date(now.getTime() - 60_000));
    if (count === undefined) throw webhookNotFound();
    if (count > this.options.webhookTestsPerMinute) throw limitReached(`a webhook may be tested at most ${this.options.webhookTestsPerMinute} times a minute`);
    const target = await findSendingTarget(this.pool, accountId, id);
    if (!target) throw webhookNotFound();
    const body = JSON.stringify({ event: testEvent, webhookId: id, sentAt: now.toISOString() });
    const signed = signedHeaders(signingKeys(target.secrets, now), `msg_test_${randomBytes(8).toString('hex')}`, testEvent, now, body);
    return this.sender.send({ url: target.url, body, headers: withCustomHeaders(target.headers, signed) });
  }

  /** One webhook of the account; error 4 for another account's. */
  async get(accountId: number, id: number): Promise<WebHook> {
    const webhook = await findWebhook(this.pool, accountId, id);
    if (!webhook) throw webhookNotFound();
    return webhook;
  }

  async deliveries(accountId: number, id: number, options: DeliveryFilter & { limit: number; withPayload?: boolean }): Promise<DeliveryView[]> {
    if (!(await findWebhook(this.pool, accountId, id))) throw webhookNotFound();
    return listDeliveries(this.pool, id, options);
  }

  /**
   * A new signing secret. Until keepOldMinutes have passed, requests carry a
   * signature with each (receivers switch at their pace); 0 drops the old one
   * at once. Takes effect from a worker's next round.
   */
  async rotateSecret(accountId: number, id: number, keepOldMinutes: number): Promise<WebHook> {
    return inTransaction(this.pool, async (tx) => {
      if (!(await findWebhook(tx, accountId, id, true))) throw webhookNotFound();
      const until = keepOldMinutes > 0 ? new Date(this.clock.now().getTime() + keepOldMinutes * 60_000) : null;
      await replaceSecret(tx, id, newSecret(), until);
      return (await findWebhook(tx, accountId, id))!;
    });
  }

  /**
   * A finished delivery (delivered, given up, discarded) goes out again with
   * its webhook-id and sequence, a fresh timestamp and signature, behind its
   * lane's waiting events. Error 4 when it is not stored, or its payload no
   * longer is.
   */
  async resend(accountId: number, id: number, deliveryId: number): Promise<DeliveryView> {
    const resent = await inTransaction(this.pool, async (tx) => {
      const webhook = await this.activeWebhook(tx, accountId, id);
      const [delivery] = await listDeliveries(tx, webhook.id, { limit: 1, deliveryId });
      if (!delivery) throw deliveryNotFound();
      if (!resendableStatuses.includes(delivery.status)) throw invalid('messageId', `names a delivery that is ${delivery.status}, not finished: it goes out by itself`);
      const now = this.clock.now();
      if (!(await requeueFinishedDelivery(tx, id, deliveryId, now))) throw new ApiError(ErrorCode.webhookNotFound, 'the delivery\'s payload is no longer stored');
      await makeWebhookDue(tx, id, now);
      return (await listDeliveries(tx, id, { limit: 1, deliveryId }))[0]!;
    });
    this.onActivated(id);
    return resent;
  }

  /**
   * Every given-up or discarded delivery whose event happened in [since,
   * until) goes out again, in the order the events were accepted, behind the
   * webhook's waiting events. Called twice, the second finds them waiting
   * already and schedules nothing.
   */
  async recover(accountId: number, id: number, window: { since: Date; until?: Date }): Promise<number> {
    const now = this.clock.now();
    const until = window.until ?? now;
    const oldest = new Date(now.getTime() - this.options.payloadRetentionDays * 86_400_000);
    if (window.since < oldest) throw invalid('since', `lies before what is kept: payloads are kept ${this.options.payloadRetentionDays} days, so since must be after ${oldest.toISOString()}`);
    if (until <= window.since) throw invalid('until', 'must be after since');
    const scheduled = await inTransaction(this.pool, async (tx) => {
      await this.activeWebhook(tx, accountId, id);
      const count = await countRecoverableDeliveries(tx, id, { since: window.since, until });
      if (count > this.options.recoverMaxDeliveries) {
        throw limitReached(`${count} deliveries lie in the window, more than ${this.options.recoverMaxDeliveries} at once: recover a shorter window`);
      }
      const queued = await requeueRecoverableDeliveries(tx, id, { since: window.since, until }, now);
      if (queued > 0) await makeWebhookDue(tx, id, now);
      return queued;
    });
    if (scheduled > 0) this.onActivated(id);
    return scheduled;
  }

  /** A delivery's attempts, oldest first, with the start of each answer. */
  async attempts(accountId: number, id: number, deliveryId: number): Promise<DeliveryAttempt[]> {
    if (!(await findWebhook(this.pool, accountId, id))) throw webhookNotFound();
    if (!(await deliveryExists(this.pool, deliveryId, id))) throw deliveryNotFound();
    return attemptsOfDelivery(this.pool, deliveryId);
  }

  /** The webhook, locked; a deactivated one answers 3: its buffer and replay come first. */
  private async activeWebhook(tx: PoolConnection, accountId: number, id: number): Promise<WebHook> {
    const webhook = await findWebhook(tx, accountId, id, true);
    if (!webhook) throw webhookNotFound();
    if (!webhook.active) throw invalid('id', 'names a deactivated webhook: reactivate it first (ActivateWebHook)');
    return webhook;
  }
}

const deliveryNotFound = () => new ApiError(ErrorCode.webhookNotFound, 'no delivery with this messageId in this webhook');
