import { deliveryStatuses, type AttemptOutcome } from '../domain/delivery.js';
import { maxPerSecondLimit, type WebHook } from '../domain/webhook.js';
import { applyHeaderChanges, readHeaderChanges, type CustomHeader, type HeaderChange } from '../domain/customHeaders.js';
import {
  optionalBoolean,
  optionalChoice,
  optionalDateTime,
  optionalInteger,
  optionalPerSecond,
  optionalText,
  requiredDateTime,
  requiredId,
  requiredMessageId,
  requiredText,
  type RawParameters,
} from '../domain/parameters.js';
import type { DeliveryAttempt } from '../storage/attemptsStore.js';
import type { DeliveryView } from '../storage/deliveriesStore.js';
import type { Authenticator } from './authenticator.js';
import type { PortalAccess } from './portal.js';
import { readNewWebhook, readWebhookUpdate, validateEvent, type Activation, type WebhookService } from './webhookService.js';

/** The legacy four, then the additions after the first release. */
export const functionNames = [
  'CreateWebHook', 'GetWebHooks', 'ActivateWebHook', 'DeleteWebHookById', 'TestWebHook', 'GetWebHookDeliveries', 'RotateWebHookSecret',
  'ResendWebHookDelivery', 'RecoverWebHookDeliveries', 'GetWebHookDeliveryAttempts', 'GetPortalLink', 'UpdateWebHook',
] as const;

export type FunctionName = (typeof functionNames)[number];

export function isFunctionName(name: string): name is FunctionName {
  return (functionNames as readonly string[]).includes(name);
}

export interface Caller {
  address?: string;
}

/** What each function returns on success; the transports render it. */
export type Outcome =
  | { function: 'CreateWebHook'; message: ''; result: WebHook }
  | { function: 'GetWebHooks'; message: ''; result: WebHook[] }
  | { function: 'ActivateWebHook'; message: string; result: Activation }
  | { function: 'DeleteWebHookById'; message: ''; result: true }
  | { function: 'TestWebHook'; message: ''; result: AttemptOutcome }
  | { function: 'GetWebHookDeliveries'; message: ''; result: DeliveryView[] }
  | { function: 'RotateWebHookSecret'; message: ''; result: WebHook }
  | { function: 'ResendWebHookDelivery'; message: ''; result: DeliveryView }
  | { function: 'RecoverWebHookDeliveries'; message: ''; result: { scheduled: number } }
  | { function: 'GetWebHookDeliveryAttempts'; message: ''; result: DeliveryAttempt[] }
  | { function: 'GetPortalLink'; message: ''; result: string }
  | { function: 'UpdateWebHook'; message: ''; result: WebHook };

/** A new webhook's headers: each needs its value, as there is none stored to keep. */
function newHeaders(changes: HeaderChange[]): CustomHeader[] {
  return applyHeaderChanges([], changes);
}

/**
 * The webservice functions as the platform's callers know them: raw
 * parameters in (username and password among them), an outcome or an ApiError
 * out. SOAP and JSON both call this, so they cannot disagree.
 */
export class Webservice {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly webhooks: WebhookService,
    private readonly portal: PortalAccess,
  ) {}

  async call(name: FunctionName, params: RawParameters, caller: Caller): Promise<Outcome> {
    const username = requiredText(params, 'username');
    const password = requiredText(params, 'password');
    // Parameters are checked before the password, so that a malformed call
    // answers the same whether or not the credentials are right.
    switch (name) {
      case 'CreateWebHook': {
        const input = readNewWebhook({ app: requiredText(params, 'app'), event: requiredText(params, 'event'), url: requiredText(params, 'url') });
        const maxPerSecond = optionalPerSecond(params, 'maxPerSecond', maxPerSecondLimit);
        const headers = params.headers === undefined ? [] : newHeaders(readHeaderChanges(params.headers));
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.create(account.id, { ...input, maxPerSecond, headers }) };
      }
      case 'UpdateWebHook': {
        const id = requiredId(params, 'id');
        const update = readWebhookUpdate(params);
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.update(account.id, id, update) };
      }
      case 'GetWebHooks': {
        const app = optionalText(params, 'app');
        const eventText = optionalText(params, 'event');
        const event = eventText === undefined ? undefined : validateEvent(eventText);
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.list(account.id, { app, event }) };
      }
      case 'ActivateWebHook': {
        const id = requiredId(params, 'id');
        const replay = optionalBoolean(params, 'replayEvents');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        const activation = await this.webhooks.activate(account.id, id, replay);
        return { function: name, message: activation.alreadyActive ? 'webhook is already active' : '', result: activation };
      }
      case 'DeleteWebHookById': {
        const id = requiredId(params, 'id');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        await this.webhooks.delete(account.id, id);
        return { function: name, message: '', result: true };
      }
      case 'TestWebHook': {
        const id = requiredId(params, 'id');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.test(account.id, id) };
      }
      case 'GetWebHookDeliveries': {
        const id = requiredId(params, 'id');
        const limit = optionalInteger(params, 'limit', { min: 1, max: 500, fallback: 50 });
        const status = optionalChoice(params, 'status', deliveryStatuses);
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.deliveries(account.id, id, { limit, status }) };
      }
      case 'RotateWebHookSecret': {
        const id = requiredId(params, 'id');
        const keepOldMinutes = optionalInteger(params, 'keepOldMinutes', { min: 0, max: 10_080, fallback: 1440 });
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.rotateSecret(account.id, id, keepOldMinutes) };
      }
      case 'ResendWebHookDelivery': {
        const id = requiredId(params, 'id');
        const deliveryId = requiredMessageId(params, 'messageId');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.resend(account.id, id, deliveryId) };
      }
      case 'RecoverWebHookDeliveries': {
        const id = requiredId(params, 'id');
        const since = requiredDateTime(params, 'since');
        const until = optionalDateTime(params, 'until');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: { scheduled: await this.webhooks.recover(account.id, id, { since, until }) } };
      }
      case 'GetWebHookDeliveryAttempts': {
        const id = requiredId(params, 'id');
        const deliveryId = requiredMessageId(params, 'messageId');
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: await this.webhooks.attempts(account.id, id, deliveryId) };
      }
      case 'GetPortalLink': {
        const webhookId = optionalText(params, 'webhookId') === undefined ? undefined : requiredId(params, 'webhookId');
        const language = optionalChoice(params, 'language', ['de', 'en'] as const);
        const account = await this.authenticator.authenticate(username, password, caller.address);
        return { function: name, message: '', result: (await this.portal.createLink(account.id, webhookId, language, account.language)).url };
      }
    }
  }
}
