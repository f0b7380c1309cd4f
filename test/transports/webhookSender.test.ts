import { expect } from 'chai';
import { WebhookSender } from '../../src/transports/outbound/webhookSender.js';
import { HostileReceiver, type Misbehaviour } from '../helpers/hostileReceiver.js';
import { TestReceiver } from '../helpers/receiver.js';

// Timers fire a little late on a loaded machine; the point is "by the deadline", not "forever".
const slack = 400;

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

  it('reads a 429 answer\'s Retry-After, as seconds or as a date', async () => {
    const sender = new WebhookSender({ timeoutMs: 1000, allowPrivateTargets: true });
    try {
      const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
      const answers = [{ 'retry-after': '30' }, { 'retry-after': inTwoMinutes }, { 'retry-after': 'soon' }];
      receiver.reply = (_receipt, index) => ({ status: 429, headers: answers[index]! });
      const outcomes = [];
      for (let i = 0; i < answers.length; i += 1) outcomes.push(await sender.send({ url: receiver.url(), body: '{}', headers: {} }));
      expect(outcomes[0]).to.include({ succeeded: false, statusCode: 429, retryAfterSeconds: 30 });
      expect((outcomes[1] as { retryAfterSeconds: number }).retryAfterSeconds).to.be.within(118, 120);
      expect(outcomes[2]).to.not.have.property('retryAfterSeconds');
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

  describe('against hostile receivers, every attempt ends by its deadline and closes its socket', () => {
    const timeoutMs = 1000;
    const cases: Array<[Misbehaviour, Record<string, unknown>, number]> = [
      // [misbehaviour, what the outcome says, the latest it may end]
      ['trickle', { succeeded: true, statusCode: 200 }, timeoutMs + slack],
      ['flood102', { succeeded: false, failureClass: 'response_timeout', statusCode: null }, timeoutMs + slack],
      ['blackHole', { succeeded: false, failureClass: 'response_timeout', statusCode: null }, timeoutMs + slack],
      ['slowHeaders', { succeeded: false, failureClass: 'response_timeout', statusCode: null }, timeoutMs + slack],
      // A huge body is not read: the answer is known from its first bytes.
      ['hugeError', { succeeded: false, failureClass: 'http_status', statusCode: 500 }, slack],
      ['hugeSuccess', { succeeded: true, statusCode: 200 }, slack],
    ];
    for (const [kind, expected, latest] of cases) {
      it(`${kind}: ${JSON.stringify(expected)} within ${latest} ms`, async () => {
        const hostile = await new HostileReceiver(kind).start();
        const sender = new WebhookSender({ timeoutMs, allowPrivateTargets: true });
        try {
          const started = performance.now();
          const outcome = await sender.send({ url: hostile.url(), body: '{"n":1}', headers: {} });
          const took = performance.now() - started;
          expect(outcome).to.include(expected);
          expect(took, 'attempt duration').to.be.below(latest);
          if (kind === 'hugeError') expect((outcome as { error: string }).error).to.match(/^HTTP 500: e{100,200}$/);
          // The socket is gone too: nothing of this attempt lingers past its deadline.
          const closedBy = performance.now() + slack;
          while (hostile.open() > 0 && performance.now() < closedBy) await new Promise((resolve) => setTimeout(resolve, 20));
          expect(hostile.open(), 'connections still open').to.equal(0);
        } finally {
          await sender.close();
          await hostile.stop();
        }
      });
    }

    it('a DNS answer that never comes ends as a connect timeout, and the late connection sends nothing', async () => {
      let answer: ((addresses: string[]) => void) | undefined;
      const sender = new WebhookSender({
        timeoutMs: 500,
        allowPrivateTargets: true,
        resolveHost: () => new Promise((resolve) => (answer = resolve)),
      });
      try {
        const port = new URL(receiver.url()).port;
        const started = performance.now();
        const outcome = await sender.send({ url: `http://slow-dns.example:${port}/hook`, body: '{}', headers: {} });
        expect(outcome).to.include({ succeeded: false, failureClass: 'connect_timeout' });
        expect(performance.now() - started).to.be.below(500 + slack);
        answer!(['127.0.0.1']); // DNS answers after all: the request must not go out any more
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(receiver.receipts).to.have.length(0);
      } finally {
        await sender.close();
      }
    });
  });
});
