import { expect } from 'chai';
import type { AttemptOutcome } from '../../src/domain/delivery.js';
import {
  decideAfterRound,
  healthyEndpoint,
  latestDeactivationAt,
  type EndpointHealth,
  type FailurePolicy,
  type LaneAttempt,
} from '../../src/domain/failurePolicy.js';

const policy: FailurePolicy = {
  retryScheduleSeconds: [5, 60, 300, 1200, 3600, 7200, 14400],
  deactivateAfterFailures: 8,
  circuitAfterFailures: 3,
  warnAfterFailures: 4,
  unsubscribeOnGone: false,
};
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const failed = (statusCode: number | null = 500, retryAfterSeconds?: number): AttemptOutcome => ({
  succeeded: false, statusCode, failureClass: 'http_status', error: `HTTP ${statusCode}`, durationMs: 5, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
});
const ok: AttemptOutcome = { succeeded: true, statusCode: 204, durationMs: 3 };
let nextId = 1;
const attempt = (seconds: number, outcome: AttemptOutcome, laneFailures = 0, deliveryId = nextId++): LaneAttempt => ({ deliveryId, laneFailures, endedAt: at(seconds), outcome });

/** Runs rounds one after another, each starting from the health the last one left. */
function rounds(...list: Array<{ attempts: LaneAttempt[]; now: number }>) {
  let health: EndpointHealth = healthyEndpoint;
  return list.map(({ attempts, now }) => {
    const decision = decideAfterRound(health, attempts, at(now), policy);
    health = decision.health;
    return decision;
  });
}

describe('the failure policy: failures cost their own lane', () => {
  it('backs off only the lane that failed, on the schedule, while the endpoint keeps flowing', () => {
    const [decision] = rounds({ attempts: [attempt(0, ok), attempt(0.1, failed(502), 0, 7), attempt(0.2, ok)], now: 0.2 });
    expect(decision!.endpoint).to.deep.equal({ kind: 'flowing' });
    expect(decision!.lanes).to.deep.equal([{ deliveryId: 7, kind: 'retry', failures: 1, retryAt: at(5.1) }]);
    expect(decision!.health).to.deep.equal(healthyEndpoint); // the success after it ended the run
    expect(decision!.failure?.statusCode).to.equal(502);
  });

  it('walks a lane along the schedule, repeating its last step', () => {
    const waits = [0, 1, 5, 6, 9].map((before) => {
      const [lane] = decideAfterRound(healthyEndpoint, [attempt(0, failed(), before)], t0, { ...policy, deactivateAfterFailures: 20 }).lanes;
      return lane!.kind === 'retry' ? (lane!.retryAt.getTime() - t0.getTime()) / 1000 : lane!.kind;
    });
    expect(waits).to.deep.equal([5, 60, 7200, 14400, 14400]);
  });

  it('gives a delivery up when its own lane failed DEACTIVATE_AFTER_FAILURES times while the endpoint succeeds elsewhere', () => {
    const decision = decideAfterRound(healthyEndpoint, [attempt(0, ok), attempt(1, failed(400), 7, 9)], at(1), policy);
    expect(decision.lanes).to.deep.equal([{ deliveryId: 9, kind: 'give_up', failures: 8 }]);
    expect(decision.endpoint.kind).to.equal('flowing');
  });

  it('opens the circuit after CIRCUIT_AFTER_FAILURES failures in a row across lanes, and a success between resets the streak', () => {
    const closed = decideAfterRound(healthyEndpoint, [attempt(0, failed()), attempt(0.1, failed()), attempt(0.2, ok), attempt(0.3, failed())], at(0.3), policy);
    expect(closed.endpoint.kind).to.equal('flowing');
    expect(closed.health.failureStreak).to.equal(1);
    const open = decideAfterRound(healthyEndpoint, [attempt(0, failed()), attempt(0.1, failed()), attempt(0.2, failed())], at(0.2), policy);
    expect(open.endpoint).to.deep.equal({ kind: 'down', nextAttemptAt: at(5) });
    expect(open.health).to.deep.include({ failedSteps: 1, failureStreak: 3, circuitOpen: true });
  });

  it('counts the failures of parallel lanes within one step once, and deactivates a down endpoint at the same step as one lane would', () => {
    const eight = Array.from({ length: 8 }, (_, i) => attempt(i * 0.01, failed(502)));
    let probeAt = 0;
    const probes = [5, 60, 300, 1200, 3600, 7200, 14400].map((wait) => (probeAt += wait));
    const decisions = rounds({ attempts: eight, now: 0.1 }, ...probes.map((s) => ({ attempts: [attempt(s, failed(502))], now: s })));
    expect(decisions.map((d) => d.health.failedSteps)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decisions.slice(0, 7).map((d) => d.endpoint.kind)).to.deep.equal(Array(7).fill('down'));
    expect(decisions[7]!.endpoint).to.deep.equal({ kind: 'deactivate', reason: 'failures' });
    // 7 h 26 min after the first failure, as the contract says.
    expect(probes[6]).to.equal(7 * 3600 + 26 * 60 + 5);
    // A failing probe is the endpoint's step, not a reason to give its delivery up.
    expect(decisions[7]!.lanes.every((lane) => lane.kind === 'retry')).to.equal(true);
  });

  it('never deactivates sooner because the endpoint has more lanes: failures inside one step do not add steps', () => {
    const decision = decideAfterRound(healthyEndpoint, Array.from({ length: 40 }, (_, i) => attempt(i * 0.1, failed())), at(4), policy);
    expect(decision.health.failedSteps).to.equal(1);
  });

  it('reopens every lane at the first success after the circuit opened', () => {
    const [, probe] = rounds({ attempts: [attempt(0, failed()), attempt(0, failed()), attempt(0, failed())], now: 0 }, { attempts: [attempt(5, ok), attempt(5.1, ok)], now: 5.1 });
    expect(probe!.reopened).to.equal(true);
    expect(probe!.endpoint.kind).to.equal('flowing');
    expect(probe!.health).to.deep.equal(healthyEndpoint);
  });

  it('warns once per run of failures, when it reaches WARN_AFTER_FAILURES steps', () => {
    let probeAt = 0;
    const decisions = rounds(
      { attempts: [attempt(0, failed()), attempt(0, failed()), attempt(0, failed())], now: 0 },
      ...[5, 60, 300, 1200].map((wait) => ({ attempts: [attempt((probeAt += wait), failed())], now: probeAt })),
    );
    expect(decisions.map((d) => d.warn)).to.deep.equal([false, false, false, true, false]);
    expect(decisions.map((d) => d.runsStarted)).to.deep.equal([1, 0, 0, 0, 0]);
  });

  it('deactivates at once on 410 Gone, or unsubscribes a REST hook', () => {
    expect(decideAfterRound(healthyEndpoint, [attempt(0, ok), attempt(0, failed(410))], t0, policy).endpoint).to.deep.equal({ kind: 'deactivate', reason: 'gone' });
    expect(decideAfterRound(healthyEndpoint, [attempt(0, failed(410))], t0, { ...policy, unsubscribeOnGone: true }).endpoint).to.deep.equal({ kind: 'unsubscribe' });
  });

  it('takes 429 for the whole endpoint: the circuit opens, no lane is charged, and Retry-After is honoured up to the longest step', () => {
    const asked = decideAfterRound(healthyEndpoint, [attempt(0, failed(429, 120), 0, 5)], t0, policy);
    expect(asked.endpoint).to.deep.equal({ kind: 'down', nextAttemptAt: at(120) });
    expect(asked.lanes).to.deep.equal([]);
    const greedy = decideAfterRound(healthyEndpoint, [attempt(0, failed(429, 10 ** 9))], t0, policy);
    expect(greedy.endpoint).to.deep.equal({ kind: 'down', nextAttemptAt: at(14400) });
    expect(decideAfterRound(healthyEndpoint, [attempt(0, failed(429))], t0, policy).endpoint).to.deep.equal({ kind: 'down', nextAttemptAt: at(5) });
  });

  it('with CIRCUIT_AFTER_FAILURES=1 backs off the whole webhook at the first failure, as the first release did', () => {
    const decision = decideAfterRound(healthyEndpoint, [attempt(0, failed())], t0, { ...policy, circuitAfterFailures: 1 });
    expect(decision.endpoint).to.deep.equal({ kind: 'down', nextAttemptAt: at(5) });
  });

  it('says when deactivation comes at the latest if every probe fails', () => {
    // After the 2nd failed step: waits of 60, 300, 1200, 3600, 7200, 14400 s before steps 3 to 8, each probe up to 10 s.
    expect(latestDeactivationAt(2, t0, policy, 10_000).toISOString()).to.equal(at(60 + 300 + 1200 + 3600 + 7200 + 14400 + 60).toISOString());
  });
});
