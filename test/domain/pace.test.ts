import { expect } from 'chai';
import type { AttemptOutcome } from '../../src/domain/delivery.js';
import {
  isLoadAnswer,
  isPacedRefusal,
  loadRefusalsPerFailure,
  paceAfter,
  startingWindow,
  throttleSecondMs,
  throttleWaitMs,
  windowSize,
  type PaceAnswer,
  type PaceWindow,
} from '../../src/domain/pace.js';

const limits = { ceiling: 64, initial: 8 };
const ok = (latencyMs: number, sentAtMs = 0): PaceAnswer => ({ kind: 'accepted', sentAtMs, latencyMs });
const refused = (statusCode: number | null, failureClass: any = 'http_status', retryAfterSeconds?: number): AttemptOutcome =>
  ({ succeeded: false, statusCode, failureClass, error: 'x', durationMs: 5, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) });

function after(window: PaceWindow, answers: PaceAnswer[], nowMs = 1000): PaceWindow {
  return answers.reduce((w, answer) => paceAfter(w, answer, nowMs, limits).window, window);
}

describe('the pace window (domain)', () => {
  it('starts at WEBHOOK_PARALLELISM and grows by one per good answer until a first load signal, never past the ceiling', () => {
    const start = startingWindow(limits);
    expect(windowSize(start)).to.equal(8);
    expect(windowSize(after(start, Array(8).fill(ok(10))))).to.equal(16);
    expect(windowSize(after(start, Array(200).fill(ok(10))))).to.equal(64);
  });

  it('halves on a load signal once per round trip: refusals of requests sent before the decrease are the same congestion', () => {
    const grown = after(startingWindow(limits), Array(24).fill(ok(10)));
    expect(windowSize(grown)).to.equal(32);
    const first = paceAfter(grown, { kind: 'load', sentAtMs: 900 }, 1000, limits);
    expect(windowSize(first.window)).to.equal(16);
    expect(first.pauseMs).to.be.above(0);
    const same = paceAfter(first.window, { kind: 'load', sentAtMs: 950 }, 1010, limits);
    expect(windowSize(same.window), 'sent before the decrease').to.equal(16);
    const next = paceAfter(same.window, { kind: 'load', sentAtMs: 1005 }, 1020, limits);
    expect(windowSize(next.window), 'sent after it').to.equal(8);
    expect(next.pauseMs, 'the pause doubles with each congestion in a row').to.equal(first.pauseMs * 2);
  });

  it('after a load signal grows by one per window of good answers, not one per answer', () => {
    const halved = paceAfter(startingWindow(limits), { kind: 'load', sentAtMs: 0 }, 1, limits).window;
    expect(windowSize(halved)).to.equal(4);
    expect(windowSize(after(halved, Array(3).fill(ok(10, 5)))), 'three good answers').to.equal(4);
    expect(windowSize(after(halved, Array(5).fill(ok(10, 5)))), 'a window and one').to.equal(5);
  });

  it('waits what Retry-After asks, up to the longest the pace holds itself', () => {
    expect(paceAfter(startingWindow(limits), { kind: 'load', sentAtMs: 0, retryAfterSeconds: 2 }, 1, limits).pauseMs).to.equal(2000);
    expect(paceAfter(startingWindow(limits), { kind: 'load', sentAtMs: 0, retryAfterSeconds: 600 }, 1, limits).pauseMs).to.equal(10_000);
  });

  it('stops growing and shrinks when latency climbs well above the baseline; small rises on a fast receiver are not a climb', () => {
    const warm = after(startingWindow(limits), [ok(20)]);
    // The first round trip still had the fast answer: slow answers stop the growth; the next, slow throughout, shrinks the window.
    const climbed = after(warm, Array(20).fill(ok(200, 500)), 1000);
    expect(windowSize(climbed)).to.be.below(windowSize(warm));
    const fast = after(startingWindow(limits), [ok(1), ...Array(20).fill(ok(4))]);
    expect(windowSize(fast)).to.equal(29);
  });

  it('does not shrink for answers our own process was slow to read: a stall delays some answers of a round trip, a queueing receiver all', () => {
    const warm = after(startingWindow(limits), Array(100).fill(ok(5)));
    expect(windowSize(warm)).to.equal(64);
    // A 150 ms stall (a collection, a busy event loop) delays every second answer of several round trips.
    const stalled = after(warm, Array.from({ length: 64 * 4 }, (_, i) => ok(i % 2 === 0 ? 150 : 5, 500)), 1000);
    expect(windowSize(stalled)).to.equal(64);
    const queueing = after(warm, Array(64 * 2).fill(ok(150, 500)), 1000);
    expect(windowSize(queueing)).to.be.below(64);
  });

  it('a 400 or a 500 says nothing of load', () => {
    const start = startingWindow(limits);
    expect(paceAfter(start, { kind: 'neutral' }, 1, limits)).to.deep.equal({ window: start, pauseMs: 0 });
    expect(isLoadAnswer(refused(500))).to.equal(false);
    expect(isLoadAnswer(refused(400))).to.equal(false);
    for (const status of [429, 502, 503, 504]) expect(isLoadAnswer(refused(status)), String(status)).to.equal(true);
    for (const failureClass of ['connection_refused', 'connection_reset', 'connect_timeout', 'response_timeout']) expect(isLoadAnswer(refused(null, failureClass)), failureClass).to.equal(true);
    expect(isLoadAnswer(refused(null, 'dns'))).to.equal(false);
  });

  it('a load refusal costs nothing only while the endpoint takes requests, a few times in a row, and within what the pace waits out', () => {
    expect(isPacedRefusal(refused(503), 0, true)).to.equal(true);
    expect(isPacedRefusal(refused(503), loadRefusalsPerFailure - 1, true)).to.equal(true);
    expect(isPacedRefusal(refused(503), loadRefusalsPerFailure, true), 'the third in a row').to.equal(false);
    expect(isPacedRefusal(refused(503), 0, false), 'an endpoint that takes nothing').to.equal(false);
    expect(isPacedRefusal(refused(429, 'http_status', 5), 0, true)).to.equal(true);
    expect(isPacedRefusal(refused(429, 'http_status', 120), 0, true), 'Retry-After beyond the pace: the circuit waits it').to.equal(false);
    expect(isPacedRefusal(refused(400), 0, true)).to.equal(false);
  });

  it('the throttle lets `perSecond` start within any second, then waits for the oldest to leave it', () => {
    expect(throttleWaitMs([], 2, 1000)).to.equal(0);
    expect(throttleWaitMs([900], 2, 1000)).to.equal(0);
    expect(throttleWaitMs([900, 950], 2, 1000)).to.equal(900 + throttleSecondMs - 1000);
    expect(throttleWaitMs([0, 900, 950], 2, 1000 + throttleSecondMs)).to.equal(0);
  });
});
