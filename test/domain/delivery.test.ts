import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { signPayload } from '../../src/domain/signature.js';
import { SubscriberLanes } from '../../src/domain/subscriberLanes.js';

describe('signatures', () => {
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

  it('tells whether anything may start: not while every waiting lane is busy or failed, again once a refused one comes back', () => {
    const one = item(1, 'a');
    const lanes = new SubscriberLanes([one, item(2, 'a'), item(3, 'b')]);
    expect([lanes.next()?.id, lanes.next()?.id]).to.deep.equal([1, 3]);
    expect(lanes.hasStartable()).to.equal(false); // 2 waits behind 1
    lanes.finished(item(3, 'b'), false);
    expect(lanes.hasStartable()).to.equal(false); // b failed, but nothing of b waits
    lanes.requeue(one); // refused for load: goes again first
    expect(lanes.hasStartable()).to.equal(true);
    expect(lanes.next()?.id).to.equal(1);
    lanes.finished(one, false);
    expect(lanes.hasStartable()).to.equal(false); // a failed: 2 stays
  });
});
