import { expect } from 'chai';
import type { AttemptOutcome } from '../../src/domain/delivery.js';
import { OriginPace, WebhookPace } from '../../src/services/pace.js';

const overloaded: AttemptOutcome = { succeeded: false, statusCode: 503, durationMs: 1, failureClass: 'http_status', error: 'HTTP 503' };
const neutral: AttemptOutcome = { succeeded: false, statusCode: 400, durationMs: 1, failureClass: 'http_status', error: 'HTTP 400' };

/** An origin whose window stays at `size`: neutral answers teach it nothing. */
const originOf = (size: number) => new OriginPace({ ceiling: size, initial: size }, () => 0);

/**
 * A round queued at the origin that starts `wants` requests when woken, as
 * sendRound does: it queues again when the origin is full, waits out a pause
 * itself.
 */
function queuedRound(origin: OriginPace, wants: number, woken: string[], name: string) {
  let left = wants;
  const wake = () => {
    woken.push(name);
    while (left > 0) {
      const wait = origin.waitMs();
      if (wait === null) return origin.whenRoom(wake);
      if (wait > 0) return void setTimeout(wake, wait);
      origin.started();
      left -= 1;
    }
  };
  origin.whenRoom(wake);
}

describe('an origin\'s pace', () => {
  // A campaign's hundred webhooks share one origin: waking every queued round
  // on every answer cost each answer a wake-up per round, most of which could
  // start nothing (the window had room for one).
  it('wakes as many queued rounds as an answer makes room for, first queued first', () => {
    const origin = originOf(2);
    origin.started();
    origin.started();
    const woken: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) queuedRound(origin, 1, woken, name);
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['a']);
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['a', 'b']);
  });

  it('passes the room on when a woken round starts nothing, so that no room is left unused while rounds wait', () => {
    const origin = originOf(1);
    origin.started();
    const woken: string[] = [];
    queuedRound(origin, 0, woken, 'gone');
    queuedRound(origin, 1, woken, 'next');
    queuedRound(origin, 1, woken, 'after');
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['gone', 'next']);
  });

  it('a round that wants more than the room queues again behind the others', () => {
    const origin = originOf(2);
    origin.started();
    origin.started();
    const woken: string[] = [];
    queuedRound(origin, 3, woken, 'greedy');
    queuedRound(origin, 1, woken, 'other');
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['greedy']);
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['greedy', 'other']);
    origin.ended(neutral, 0);
    expect(woken).to.deep.equal(['greedy', 'other', 'greedy']);
  });

  // The pause's timer runs on the event loop's clock, the pace on performance.now(): the timer may fire a little early.
  it('wakes the rounds queued during a pause once the pause is over, even when its timer fires before the clock says so', async () => {
    let nowMs = 0;
    const origin = new OriginPace({ ceiling: 4, initial: 4 }, () => nowMs);
    origin.started();
    origin.ended(overloaded, 0);
    const pauseMs = origin.waitMs()!;
    expect(pauseMs).to.be.greaterThan(0);
    const woken: string[] = [];
    queuedRound(origin, 1, woken, 'waiting');
    await new Promise((resolve) => setTimeout(resolve, pauseMs + 20));
    expect(woken, 'the clock still says paused').to.deep.equal([]);
    nowMs = pauseMs;
    await new Promise((resolve) => setTimeout(resolve, pauseMs + 20));
    expect(woken).to.deep.equal(['waiting']);
  });
});

describe('a webhook\'s throttle', () => {
  /** A webhook throttled to two a second, two requests of it started at 0, and a clock to move. */
  function twoStartedAtZero() {
    const clock = { ms: 0 };
    const pace = new WebhookPace(originOf(8), 2, () => clock.ms, () => clock.ms);
    pace.start();
    pace.start();
    return { pace, clock };
  }

  // Requests that need a new connection reach the receiver later than they
  // started, those on open connections at once: counted from their starts, the
  // next second's requests arrived less than a second after the last of the
  // first (30 in one second of the receiver's, at maxPerSecond=25).
  it('counts a request from when it went onto its connection, not from when it started', () => {
    const { pace, clock } = twoStartedAtZero();
    clock.ms = 1;
    pace.written();
    clock.ms = 30; // the other waited for its connection
    pace.written();
    clock.ms = 1026;
    expect(pace.waitMs()).to.equal(0);
    pace.start();
    pace.written();
    clock.ms = 1027;
    expect(pace.waitMs(), 'until a second after the one that went out at 30').to.equal(28);
  });

  it('holds a request\'s place from its start while it is not yet on a connection', () => {
    const { pace, clock } = twoStartedAtZero();
    clock.ms = 500;
    expect(pace.waitMs()).to.equal(525);
  });
});
