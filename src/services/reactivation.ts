import type { Clock } from '../clock.js';
import type { AttemptOutcome } from '../domain/delivery.js';
import { ApiError, ErrorCode } from '../domain/errors.js';
import { formProof, formProofMatches, readLinkToken, type LinkPurpose } from '../domain/linkToken.js';
import type { Pool } from '../storage/database.js';
import { findWebhookWithAccount, type WebHookWithAccount } from '../storage/webhooksStore.js';
import type { WebhookService } from './webhookService.js';

/** A test of the webhook's URL from a page: its outcome, or "not now" when the webhook was tested too often. */
export type PageTest = { kind: 'answered'; outcome: AttemptOutcome } | { kind: 'limited'; message: string };

export type TestResultWord = 'passed' | 'failed';

export type ReactivationView =
  | { state: 'invalid' }
  | { state: 'valid'; webhook: WebHookWithAccount; csrf: string; bufferUntil: Date };

export type TestedView =
  | { state: 'invalid' }
  | { state: 'tested'; webhook: WebHookWithAccount; csrf: string; bufferUntil: Date; test: PageTest; result: TestResultWord; proof: string };

export interface Confirmation {
  csrf: string;
  replay: boolean;
  /** What the page's test found, with the proof that the page said so. */
  result: string;
  proof: string;
  /** The customer confirmed a second time after a failed test. */
  reactivateAnyway: boolean;
  /** The customer insists on the replay after a failed test. */
  replayAnyway: boolean;
}

export type ReactivationResult =
  | { state: 'invalid' }
  | { state: 'unconfirmed' }
  | { state: 'reactivated'; webhook: WebHookWithAccount; replayedEvents: number };

const day = 86_400_000;

/** Tests a linked webhook's URL; a limit reached is a page to show, not an error. */
async function testFromPage(webhooks: WebhookService, webhook: WebHookWithAccount): Promise<PageTest> {
  try {
    return { kind: 'answered', outcome: await webhooks.test(webhook.accountId, webhook.id) };
  } catch (error) {
    if (error instanceof ApiError && error.code === ErrorCode.limitReached) return { kind: 'limited', message: error.message };
    throw error;
  }
}

/** The webhook a link's token names, while the link holds. */
async function linkedWebhook(pool: Pool, key: Buffer, purpose: LinkPurpose, token: string, now: Date): Promise<{ webhook: WebHookWithAccount; occasion: number } | undefined> {
  const claim = readLinkToken(key, purpose, token, now);
  if (!claim) return undefined;
  const webhook = await findWebhookWithAccount(pool, claim.webhookId);
  return webhook ? { webhook, occasion: claim.occasion } : undefined;
}

/**
 * The one-click link of the deactivation e-mail. A token is good while its
 * signature holds, it has not expired, and the deactivation it names is the
 * webhook's current one and still lasts; every other case looks the same.
 * The page tests the URL before it offers reactivation: after a failed test
 * the customer confirms a second time, and a replay needs a passed test or
 * the customer's insistence.
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
    const linked = await linkedWebhook(this.pool, await this.tokenKey(), 'reactivate', token, this.clock.now());
    if (!linked || linked.webhook.active || linked.webhook.deactivations !== linked.occasion) return undefined;
    return linked.webhook;
  }

  private bufferUntil(webhook: WebHookWithAccount): Date {
    return new Date((webhook.deactivatedAt ?? this.clock.now()).getTime() + this.bufferDays * day);
  }

  /** What the page shows; changes nothing and sends nothing (mail scanners fetch links). */
  async inspect(token: string): Promise<ReactivationView> {
    const webhook = await this.currentDeactivation(token);
    if (!webhook) return { state: 'invalid' };
    return { state: 'valid', webhook, csrf: formProof(await this.tokenKey(), token), bufferUntil: this.bufferUntil(webhook) };
  }

  /** The page's first button: tests the URL and returns what to offer. */
  async test(token: string, csrf: string): Promise<TestedView> {
    const webhook = await this.currentDeactivation(token);
    const key = await this.tokenKey();
    if (!webhook || !formProofMatches(key, token, csrf)) return { state: 'invalid' };
    const test = await testFromPage(this.webhooks, webhook);
    const result: TestResultWord = test.kind === 'answered' && test.outcome.succeeded ? 'passed' : 'failed';
    return { state: 'tested', webhook, csrf, bufferUntil: this.bufferUntil(webhook), test, result, proof: formProof(key, token, `tested:${result}`) };
  }

  /** The confirmed form: reactivates through the same code as ActivateWebHook. */
  async confirm(token: string, confirmation: Confirmation): Promise<ReactivationResult> {
    const webhook = await this.currentDeactivation(token);
    const key = await this.tokenKey();
    if (!webhook || !formProofMatches(key, token, confirmation.csrf)) return { state: 'invalid' };
    const passed = confirmation.result === 'passed' && formProofMatches(key, token, confirmation.proof, 'tested:passed');
    if (!passed && !confirmation.reactivateAnyway) return { state: 'unconfirmed' };
    const replay = confirmation.replay && (passed || confirmation.replayAnyway);
    const activation = await this.webhooks.activate(webhook.accountId, webhook.id, replay);
    // Someone else reactivated in between: this link's deactivation is over.
    if (activation.alreadyActive) return { state: 'invalid' };
    return { state: 'reactivated', webhook: { ...webhook, ...activation.webhook }, replayedEvents: activation.replayedEvents };
  }
}

export type TestLinkView = { state: 'invalid' } | { state: 'valid'; webhook: WebHookWithAccount; csrf: string };
export type TestLinkResult = { state: 'invalid' } | { state: 'tested'; webhook: WebHookWithAccount; csrf: string; test: PageTest };

/** The warning e-mail's link: a page that tests the webhook's URL on request and shows the answer. */
export class TestLinkService {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly webhooks: WebhookService,
    private readonly tokenKey: () => Promise<Buffer>,
  ) {}

  /** What the page shows before the test; sends nothing (mail scanners fetch links). */
  async inspect(token: string): Promise<TestLinkView> {
    const key = await this.tokenKey();
    const linked = await linkedWebhook(this.pool, key, 'test', token, this.clock.now());
    return linked ? { state: 'valid', webhook: linked.webhook, csrf: formProof(key, token) } : { state: 'invalid' };
  }

  async run(token: string, csrf: string): Promise<TestLinkResult> {
    const key = await this.tokenKey();
    const linked = await linkedWebhook(this.pool, key, 'test', token, this.clock.now());
    if (!linked || !formProofMatches(key, token, csrf)) return { state: 'invalid' };
    return { state: 'tested', webhook: linked.webhook, csrf, test: await testFromPage(this.webhooks, linked.webhook) };
  }
}
