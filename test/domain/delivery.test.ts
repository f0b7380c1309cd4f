import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { decideAfterRound, latestDeactivationAt, type AttemptOutcome } from '../../src/domain/delivery.js';
import { signPayload } from '../../src/domain/signature.js';
import { SubscriberLanes } from '../../src/domain/subscriberLanes.js';

const policy = { retryScheduleSeconds: [30, 120, 600], deactivateAfterFailures: 5, warnAfterFailures: 2, unsubscribeOnGone: false };
const now = new Date('2026-01-01T00:00:00Z');
const failed = (statusCode: number | null = 500): AttemptOutcome => ({ succeeded: false, statusCode, failureClass: 'http_status', error: `HTTP ${statusCode}`, durationMs: 5 });
const ok: AttemptOutcome = { succeeded: true, statusCode: 204, durationMs: 3 };

describe('what happens after a round of attempts', () => {
  it('resets on success, and leaves the count alone when nothing was sent', () => {
    expect(decideAfterRound(4, [ok, ok], now, policy)).to.deep.equal({ kind: 'healthy', resetFailures: true });
    expect(decideAfterRound(4, [], now, policy)).to.deep.equal({ kind: 'healthy', resetFailures: false });
  });

  it('backs off along the schedule, repeating its last step', () => {
    const waits = [0, 1, 2, 3].map((previous) => {
      const decision = decideAfterRound(previous, [failed()], now, policy);
      if (decision.kind !== 'retry') throw new Error(decision.kind);
      return (decision.nextAttemptAt.getTime() - now.getTime()) / 1000;
    });
    expect(waits).to.deep.equal([30, 120, 600, 600]);
  });

  it('deactivates exactly at the configured failure, and at once on 410 Gone', () => {
    expect(decideAfterRound(3, [failed()], now, policy).kind).to.equal('retry');
    expect(decideAfterRound(4, [failed()], now, policy)).to.deep.include({ kind: 'deactivate', failureCount: 5, reason: 'failures' });
    expect(decideAfterRound(0, [ok, failed(410), failed()], now, policy)).to.deep.include({ kind: 'deactivate', failureCount: 1, reason: 'gone' });
  });

  it('warns once per run of failures, when the run reaches the threshold, and says when deactivation comes at the latest', () => {
    const warned = [0, 1, 2, 3].map((previous) => {
      const decision = decideAfterRound(previous, [failed()], now, policy);
      return decision.kind === 'retry' && decision.warn;
    });
    expect(warned).to.deep.equal([false, true, false, false]);
    expect(decideAfterRound(1, [failed()], now, { ...policy, warnAfterFailures: 0 })).to.deep.include({ warn: false });
    // After the 2nd failure: waits of 120 s, 600 s, 600 s before the 3rd, 4th, 5th attempt, each up to 10 s.
    expect(latestDeactivationAt(2, now, policy, 10_000).toISOString()).to.equal(new Date(now.getTime() + (120 + 600 + 600 + 30) * 1000).toISOString());
  });

  it('takes 410 Gone for an unsubscribe where the webhook is a REST hook (Zapier)', () => {
    expect(decideAfterRound(0, [failed(410)], now, { ...policy, unsubscribeOnGone: true })).to.deep.include({ kind: 'unsubscribe' });
    expect(decideAfterRound(0, [failed(500)], now, { ...policy, unsubscribeOnGone: true }).kind).to.equal('retry');
  });

  it('counts a round of parallel failures as one failure of the webhook, naming the last', () => {
    const decision = decideAfterRound(2, [failed(502), failed(503), failed(500)], now, policy);
    expect(decision).to.deep.include({ kind: 'retry', failureCount: 3 });
    expect(decision.kind === 'retry' && decision.failure.statusCode).to.equal(500);
  });

  it('starts the count anew when the round also had a success', () => {
    expect(decideAfterRound(4, [ok, failed()], now, policy)).to.deep.include({ kind: 'retry', failureCount: 1 });
  });

  it('signs as Standard Webhooks does: the key is the base64 part of the secret', () => {
    const key = Buffer.from('c2VjcmV0LWtleS1ieXRlcw==', 'base64');
    const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    expect(signPayload('whsec_c2VjcmV0LWtleS1ieXRlcw==', 'msg_1', 1700000000, '{"a":1}')).to.equal(`v1,${expected}`);
  });
});

describe('subscriber lanes', () => {
  const item = (id: number, subscriber: string | null) => ({ id, subscriber });

  it('lets different subscribers go together and one subscriber one at a time, in order', () => {
    const lanes = new SubscriberLanes([item(1, 'a'), item(2, 'a'), item(3, 'b'), item(4, null), item(5, null), item(6, 'c')]);
    const first = [lanes.next(), lanes.next(), lanes.next(), lanes.next(), lanes.next()].map((i) => i?.id);
    expect(first).to.deep.equal([1, 3, 4, 6, undefined]); // 2 waits for 1, 5 for 4 (key-less share a lane)
    lanes.finished(item(1, 'a'), true);
    expect(lanes.next()?.id).to.equal(2);
    lanes.finished(item(4, null), true);
    expect(lanes.next()?.id).to.equal(5);
    expect(lanes.next()).to.equal(undefined);
  });

  it('gives a subscriber nothing more after its delivery failed, while the others go on', () => {
    const lanes = new SubscriberLanes([item(1, 'a'), item(2, 'b'), item(3, 'a'), item(4, 'b')]);
    expect([lanes.next()?.id, lanes.next()?.id]).to.deep.equal([1, 2]);
    lanes.finished(item(1, 'a'), false);
    lanes.finished(item(2, 'b'), true);
    expect(lanes.next()?.id).to.equal(4);
    expect(lanes.next()).to.equal(undefined);
  });
});
