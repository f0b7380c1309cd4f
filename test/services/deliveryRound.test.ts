import { expect } from 'chai';
import type { AttemptOutcome } from '../../src/domain/delivery.js';
import { sendRound } from '../../src/services/deliveryRound.js';
import type { PendingDelivery } from '../../src/storage/deliveriesStore.js';

const accepted: AttemptOutcome = { succeeded: true, statusCode: 204, durationMs: 1 };

const deliveriesOf = (subscribers: Array<string | null>): PendingDelivery[] =>
  subscribers.map((subscriber, i) => ({ id: i + 1, event: 'optin_finalized', subscriber, payload: '{}', failures: 0, sequence: null }));

/**
 * A receiver's pace that takes one request at a time, shared with other
 * rounds as an origin's is: it counts the rounds that queue for it and wakes
 * them all when a request ends, as OriginPace does.
 */
function onePaceAtATime() {
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const pace = {
    queued: 0,
    waitMs: () => (inFlight === 0 ? 0 : null),
    whenRoom: (wake: () => void) => {
      pace.queued += 1;
      waiting.push(wake);
    },
    started: () => {
      inFlight += 1;
    },
    ended: () => {
      inFlight -= 1;
      waiting.splice(0).forEach((wake) => wake());
    },
  };
  return pace;
}

/** Sends one round of deliveries of these subscribers against a pace of one request at a time; what went, in which order, and how often the round queued for the pace. */
async function sendAgainstOnePace(subscribers: Array<string | null>, extraSlots: () => boolean) {
  const pace = onePaceAtATime();
  const sent: number[] = [];
  const attempts = await sendRound({
    deliveries: deliveriesOf(subscribers),
    parallelism: 8,
    probing: false,
    endsRound: () => false,
    mayStart: () => true,
    takeExtraSlot: extraSlots,
    giveExtraSlot: () => undefined,
    now: () => new Date(),
    pace: { waitMs: pace.waitMs, whenRoom: pace.whenRoom },
    send: async (delivery) => {
      pace.started();
      sent.push(delivery.id);
      await new Promise((resolve) => setImmediate(resolve));
      pace.ended();
      return { outcome: accepted, paced: false };
    },
  });
  return { sent, attempts, queued: pace.queued };
}

describe('a delivery round and the receiver\'s pace', () => {
  // Every round queued for the pace is woken by every answer of its origin: a
  // round that could not start anything anyway would cost a wake-up per answer.
  it('does not queue for the pace while its only lane is busy', async () => {
    const { sent, attempts, queued } = await sendAgainstOnePace([null, null, null], () => true);
    expect(sent).to.deep.equal([1, 2, 3]);
    expect(attempts).to.have.length(3);
    expect(queued).to.equal(0);
  });

  it('does not queue for the pace while it has no slot for another attempt', async () => {
    const { sent, attempts, queued } = await sendAgainstOnePace(['a', 'b', 'c'], () => false);
    expect(sent).to.deep.equal([1, 2, 3]);
    expect(attempts).to.have.length(3);
    expect(queued).to.equal(0);
  });

  it('queues for the pace when an attempt could start but the receiver has no room, and goes on when woken', async () => {
    const { sent, attempts, queued } = await sendAgainstOnePace(['a', 'b', 'c'], () => true);
    expect(sent).to.deep.equal([1, 2, 3]);
    expect(attempts).to.have.length(3);
    expect(queued).to.be.greaterThan(0);
  });
});
