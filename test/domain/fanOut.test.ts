import { expect } from 'chai';
import { planFanOut, type CountingWebhook, type StoredEventToFanOut } from '../../src/domain/fanOut.js';

const day = 86_400_000;
const now = new Date('2026-12-03T10:00:00Z');
const webhook = (id: number, change: Partial<CountingWebhook> = {}): CountingWebhook => ({
  id, accountId: 1, event: 'optin_finalized', active: true, deactivatedAt: null, lastSequence: 0, lastKeylessSequence: 0, previousKeylessSequence: 0, ...change,
});
const event = (id: number, subscriber: string | null, change: Partial<StoredEventToFanOut> = {}): StoredEventToFanOut => ({
  id, accountId: 1, event: 'optin_finalized', subscriber, occurredAt: now, bufferSince: new Date(now.getTime() - 5 * day), ...change,
});
const noLanes = () => undefined;

describe('fan-out of a batch of events', () => {
  it('numbers each webhook\'s deliveries without gaps, in event order, from where its counter stood', () => {
    const plan = planFanOut([webhook(7, { lastSequence: 41 }), webhook(8)], [event(100, 'a'), event(101, 'b'), event(102, 'a')], noLanes);
    expect(plan.deliveries.filter((d) => d.webhookId === 7).map((d) => [d.eventId, d.sequence])).to.deep.equal([[100, 42], [101, 43], [102, 44]]);
    expect(plan.deliveries.filter((d) => d.webhookId === 8).map((d) => d.sequence)).to.deep.equal([1, 2, 3]);
    expect(plan.counters.get(7)!.lastSequence).to.equal(44);
    expect([...plan.deliveriesPerEvent.values()]).to.deep.equal([2, 2, 2]);
  });

  it('gives each delivery the sequence of its lane\'s previous one: stored before the batch, or earlier in it', () => {
    const stored = (webhookId: number, subscriber: string) => (webhookId === 7 && subscriber === 'a' ? 40 : undefined);
    const plan = planFanOut([webhook(7, { lastSequence: 41 })], [event(100, 'a'), event(101, 'b'), event(102, 'a'), event(103, 'b')], stored);
    expect(plan.deliveries.map((d) => d.previousSequence)).to.deep.equal([40, 0, 42, 43]);
    expect(plan.laneEnds).to.deep.equal([{ webhookId: 7, subscriber: 'a', lastSequence: 44 }, { webhookId: 7, subscriber: 'b', lastSequence: 45 }]);
  });

  it('chains events without a subscriber key on the webhook\'s key-less counters, apart from the keyed lanes', () => {
    const plan = planFanOut([webhook(7, { lastSequence: 5, lastKeylessSequence: 3, previousKeylessSequence: 1 })], [event(100, null), event(101, 'a'), event(102, null)], noLanes);
    expect(plan.deliveries.map((d) => [d.sequence, d.previousSequence])).to.deep.equal([[6, 3], [7, 0], [8, 6]]);
    expect(plan.counters.get(7)).to.deep.equal({ lastSequence: 8, lastKeylessSequence: 8, previousKeylessSequence: 6, droppedEvents: 0 });
    expect(plan.laneEnds).to.deep.equal([{ webhookId: 7, subscriber: 'a', lastSequence: 7 }]);
  });

  it('buffers for a webhook deactivated within the event\'s window and counts the event dropped for one deactivated before it', () => {
    const recently = webhook(7, { active: false, deactivatedAt: new Date(now.getTime() - day) });
    const longAgo = webhook(8, { active: false, deactivatedAt: new Date(now.getTime() - 6 * day) });
    const plan = planFanOut([recently, longAgo, webhook(9)], [event(100, 'a')], noLanes);
    expect(plan.deliveries.map((d) => [d.webhookId, d.buffered])).to.deep.equal([[7, true], [9, false]]);
    expect(plan.counters.get(8)).to.deep.equal({ lastSequence: 0, lastKeylessSequence: 0, previousKeylessSequence: 0, droppedEvents: 1 });
    expect(plan.deliveriesPerEvent.get(100)).to.equal(2);
  });

  it('sends each event only to the webhooks of its own account and name', () => {
    const plan = planFanOut([webhook(7), webhook(8, { accountId: 2 }), webhook(9, { event: 'unsubscribed' })], [event(100, 'a'), event(101, 'a', { accountId: 2 })], noLanes);
    expect(plan.deliveries.map((d) => [d.eventId, d.webhookId])).to.deep.equal([[100, 7], [101, 8]]);
  });
});
