import { expect } from 'chai';
import { decideAfterAttempt, type AttemptOutcome } from '../../src/domain/delivery.js';
import { signPayload } from '../../src/domain/signature.js';
import { createHmac } from 'node:crypto';

const policy = { retryScheduleSeconds: [30, 120, 600], deactivateAfterFailures: 5 };
const now = new Date('2026-01-01T00:00:00Z');
const failed = (statusCode: number | null = 500): AttemptOutcome => ({ succeeded: false, statusCode, failureClass: 'http_status', error: 'HTTP 500', durationMs: 5 });

describe('what happens after an attempt', () => {
  it('resets on success', () => {
    expect(decideAfterAttempt(4, { succeeded: true, statusCode: 204, durationMs: 3 }, now, policy)).to.deep.equal({ kind: 'succeeded' });
  });

  it('backs off along the schedule, repeating its last step', () => {
    const waits = [0, 1, 2, 3].map((previous) => {
      const decision = decideAfterAttempt(previous, failed(), now, policy);
      if (decision.kind !== 'retry') throw new Error(decision.kind);
      return (decision.nextAttemptAt.getTime() - now.getTime()) / 1000;
    });
    expect(waits).to.deep.equal([30, 120, 600, 600]);
  });

  it('deactivates exactly at the configured failure, and at once on 410 Gone', () => {
    expect(decideAfterAttempt(3, failed(), now, policy).kind).to.equal('retry');
    expect(decideAfterAttempt(4, failed(), now, policy)).to.deep.equal({ kind: 'deactivate', failureCount: 5, reason: 'failures' });
    expect(decideAfterAttempt(0, failed(410), now, policy)).to.deep.equal({ kind: 'deactivate', failureCount: 1, reason: 'gone' });
  });

  it('signs as Standard Webhooks does: the key is the base64 part of the secret', () => {
    const key = Buffer.from('c2VjcmV0LWtleS1ieXRlcw==', 'base64');
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    expect(signPayload('whsec_c2VjcmV0LWtleS1ieXRlcw==', 'msg_1', 1700000000, '{"a":1}')).to.equal(`v1,${expected}`);
  });
});
