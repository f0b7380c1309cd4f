import { expect } from 'chai';
import { jsonClient } from './helpers/clients.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService } from './helpers/service.js';

/** One sample of a Prometheus text exposition, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('/metrics', () => {
  let service: RunningService;
  let receiver: TestReceiver;
  const clock = new ManualClock();

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', DEACTIVATE_AFTER_FAILURES: '2', RETRY_SCHEDULE: '1' }, { clock });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  const scrape = async () => {
    const response = await fetch(`${service.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).to.contain('text/plain');
    return response.text();
  };

  it('moves as the service answers, delivers, fails and deactivates', async () => {
    const before = await scrape();
    const account = await makeAccount(service);
    const client = jsonClient(service.baseUrl);
    const created = await client.call('CreateWebHook', { username: account.username, password: account.password, app: 'm', event: 'optin_finalized', url: receiver.url() });
    await client.call('GetWebHooks', { username: account.username, password: 'wrong-password' });
    await service.app.intake.accept([1, 2, 3].map((n) => ({ account: account.username, event: 'optin_finalized', payload: { n } })));

    const queued = await scrape();
    expect(sample(queued, 'webhooks_deliveries_pending')).to.equal(3);
    expect(sample(queued, 'webhooks_due')).to.equal(1);
    expect(sample(queued, 'webhooks_webservice_calls_total', 'transport="json",function="CreateWebHook",error="0"')).to.equal(
      sample(before, 'webhooks_webservice_calls_total', 'transport="json",function="CreateWebHook",error="0"') + 1,
    );
    expect(sample(queued, 'webhooks_webservice_calls_total', 'transport="json",function="GetWebHooks",error="1"')).to.equal(1);

    const worker = service.app.createWorker();
    receiver.reply = (_r, index) => (index === 0 ? { status: 200 } : { status: 500 }); // 503 would be a load answer: the pace's, not a failure
    await worker.runOnce();
    clock.advance(2000);
    await worker.runOnce();

    const after = await scrape();
    expect(sample(after, 'webhooks_delivery_attempts_total', 'outcome="succeeded",failure_class=""')).to.equal(1);
    expect(sample(after, 'webhooks_delivery_attempts_total', 'outcome="failed",failure_class="http_status"')).to.equal(2);
    expect(sample(after, 'webhooks_delivery_attempt_duration_seconds_count', 'outcome="failed"')).to.equal(2);
    expect(sample(after, 'webhooks_deactivations_total', 'reason="failures"')).to.equal(1);
    expect(sample(after, 'webhooks_deliveries_buffered')).to.equal(2);
    expect(sample(after, 'webhooks_deliveries_pending')).to.equal(0);
    expect(sample(after, 'webhooks_worker_leases_total')).to.be.at.least(2);
    expect(sample(after, 'webhooks_notifications_total', 'result="stored"')).to.equal(1); // SMTP_URL unset: stored, not sent
    expect(created.error).to.equal(0);
  });
});
