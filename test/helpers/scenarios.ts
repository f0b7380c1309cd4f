import type { ParsedMail } from 'mailparser';
import type { DeliveryWorker } from '../../src/services/deliveryWorker.js';
import type { ManualClock } from '../../src/clock.js';
import type { WebserviceClient } from './clients.js';
import type { TestReceiver } from './receiver.js';
import type { RunningService, TestAccount } from './service.js';

/**
 * Creates a webhook and fails it until deactivation (HTTP 500 each time), with
 * `buffered` events waiting behind the failing one. Needs a service with
 * DEACTIVATE_AFTER_FAILURES=3 and RETRY_SCHEDULE=60.
 */
export async function deactivatedWebhook(
  parts: { service: RunningService; client: WebserviceClient; receiver: TestReceiver; worker: DeliveryWorker; clock: ManualClock },
  account: TestAccount,
  buffered: number,
): Promise<{ id: number }> {
  const { service, client, receiver, worker, clock } = parts;
  const created = await client.call('CreateWebHook', {
    username: account.username, password: account.password, app: 'CRM <sync>', event: 'optin_finalized', url: receiver.url(`/${account.username}`),
  });
  receiver.reply = () => ({ status: 500, body: 'upstream database unavailable' });
  for (let n = 0; n <= buffered; n += 1) await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n } }]);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await worker.runOnce();
    clock.advance(60_000);
  }
  receiver.reply = () => ({ status: 200 });
  return created.result as { id: number };
}

/** The two one-click links of a notification e-mail. */
export function reactivationLinksOf(mail: ParsedMail): { reactivate: string; replay: string } {
  const links = [...String(mail.text).matchAll(/^(http\S+\/webhooks\/reactivate\?token=\S+)$/gm)].map((m) => m[1]!);
  return { replay: links.find((l) => l.endsWith('&replay=1'))!, reactivate: links.find((l) => !l.endsWith('&replay=1'))! };
}
