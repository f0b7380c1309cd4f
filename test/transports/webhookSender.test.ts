import { expect } from 'chai';
import { WebhookSender } from '../../src/transports/outbound/webhookSender.js';
import { TestReceiver } from '../helpers/receiver.js';

describe('the webhook sender', () => {
  let receiver: TestReceiver;
  beforeEach(async () => {
    receiver = await new TestReceiver().start();
  });
  afterEach(() => receiver.stop());

  it('checks the address it actually connects to: a name that resolves to loopback is refused', async () => {
    const sender = new WebhookSender({ timeoutMs: 1000, allowPrivateTargets: false });
    try {
      // localhost stands for any public name whose DNS answer has changed to a private address.
      const port = new URL(receiver.url()).port;
      const outcome = await sender.send({ url: `http://localhost:${port}/hook`, body: '{}', headers: {} });
      expect(outcome).to.include({ succeeded: false, failureClass: 'target_not_allowed' });
      const literal = await sender.send({ url: receiver.url(), body: '{}', headers: {} });
      expect(literal).to.include({ succeeded: false, failureClass: 'target_not_allowed' });
      expect(receiver.receipts).to.have.length(0);
    } finally {
      await sender.close();
    }
  });

  it('sends to private addresses when the operator allows them, and reports a DNS failure as such', async () => {
    const sender = new WebhookSender({ timeoutMs: 1000, allowPrivateTargets: true });
    try {
      const port = new URL(receiver.url()).port;
      expect(await sender.send({ url: `http://localhost:${port}/hook`, body: '{}', headers: {} })).to.include({ succeeded: true, statusCode: 200 });
      const dns = await sender.send({ url: 'http://no-such-host.invalid/hook', body: '{}', headers: {} });
      expect(dns).to.include({ succeeded: false, failureClass: 'dns' });
    } finally {
      await sender.close();
    }
  });

  it('keeps an excerpt of an error answer', async () => {
    const sender = new WebhookSender({ timeoutMs: 1000, allowPrivateTargets: true });
    try {
      receiver.reply = () => ({ status: 422, body: `{"error": "unknown list"}\n${'x'.repeat(5000)}` });
      const outcome = await sender.send({ url: receiver.url(), body: '{}', headers: {} });
      expect(outcome).to.include({ succeeded: false, failureClass: 'http_status', statusCode: 422 });
      expect((outcome as { error: string }).error).to.match(/^HTTP 422: \{"error": "unknown list"\} x+$/);
      expect((outcome as { error: string }).error.length).to.be.at.most(210);
    } finally {
      await sender.close();
    }
  });
});
