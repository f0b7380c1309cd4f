import type { AttemptOutcome } from './delivery.js';

/**
 * The receiver's pace: how many requests it may have in flight at once,
 * learned from its answers. AIMD as TCP Reno does it (grow by one per
 * window's worth of good answers, halve on a load signal, at most once per
 * round trip), with a start phase that grows by one per good answer, and a
 * latency check after TCP Vegas: a receiver whose answers take well over what
 * it answered in before is queueing, so the window stops growing and shrinks
 * along the latency gradient (as Netflix's concurrency-limits), once per round
 * trip while that lasts. What a latency measures includes our own process's
 * stalls (a busy event loop, a collection, a slow commit beside it): those
 * delay some answers of a round trip, a queueing receiver delays all of them.
 * So one slow answer only stops the growth, and the window shrinks only when
 * the fastest answer of a whole round trip was slow. Pure: answers in, window out.
 */
export interface PaceWindow {
  /** Requests that may be in flight at once; fractional while it grows. */
  limit: number;
  /** Still growing by one per good answer: no load signal seen yet. */
  starting: boolean;
  /** What the receiver answers in when it is not loaded: the shortest latency lately (drifts up slowly). */
  baselineMs: number | null;
  /** Recent latency, smoothed. */
  smoothedMs: number | null;
  /** The fastest answer so far of the round trip being judged, how many answers it has had, and how many it takes (the window when it began). */
  tripLowestMs: number | null;
  tripAnswers: number;
  tripSize: number;
  /** When the window was last made smaller: an answer to a request sent before then tells of the same congestion. */
  lastDecreaseMs: number;
  /** Congestions in a row with no good answer between: the pause after each doubles. */
  loadStreak: number;
}

export interface PaceLimits {
  /** The window never grows past this (the account's share of a worker). */
  ceiling: number;
  /** Where the window starts (WEBHOOK_PARALLELISM, what one webhook had before the pace). */
  initial: number;
}

export type PaceAnswer =
  | { kind: 'accepted'; sentAtMs: number; latencyMs: number }
  | { kind: 'load'; sentAtMs: number; retryAfterSeconds?: number }
  /** Any other answer (a 400, a 500): says nothing of the receiver's load. */
  | { kind: 'neutral' };

// Latency counts as climbing when it is both twice the baseline and this much
// over it: a receiver that answers in 1 ms on loopback is not loaded at 3 ms.
const climbFactor = 2;
const climbFloorMs = 50;
const smoothing = 0.2;
// The baseline forgets a fast past slowly while requests may queue at the
// receiver; with one request in flight nothing of ours queues, so what it
// answers in is its base: a receiver that became slower for good is not held
// against its old self for long.
const baselineDrift = 0.001;
const baselineDriftAlone = 0.1;
const firstPauseMs = 25;
const longestPauseMs = 5000;
/** The longest Retry-After the pace waits out itself; longer, and the endpoint counts as down (the circuit's rule). */
export const longestPacedRetryAfterSeconds = 10;

/** A latency that says the receiver queues: well over what it answers in when it does not. */
function isSlow(latencyMs: number, baselineMs: number): boolean {
  return latencyMs > baselineMs * climbFactor && latencyMs - baselineMs > climbFloorMs;
}

export function startingWindow(limits: PaceLimits): PaceWindow {
  return { limit: limits.initial, starting: true, baselineMs: null, smoothedMs: null, tripLowestMs: null, tripAnswers: 0, tripSize: windowSize({ limit: limits.initial }), lastDecreaseMs: 0, loadStreak: 0 };
}

/** Requests the window lets be in flight now. */
export function windowSize(window: Pick<PaceWindow, 'limit'>): number {
  return Math.max(1, Math.floor(window.limit));
}

/**
 * A load signal: the receiver (or what stands in front of it) said it is
 * full, or did not take the request: 502, 503, 504, 429, a refused or reset
 * connection, a deadline that ran out.
 */
export function isLoadAnswer(outcome: AttemptOutcome): boolean {
  if (outcome.succeeded) return false;
  if (outcome.statusCode !== null) return [429, 502, 503, 504].includes(outcome.statusCode);
  return ['connection_refused', 'connection_reset', 'connect_timeout', 'response_timeout'].includes(outcome.failureClass);
}

export function paceAnswerOf(outcome: AttemptOutcome, sentAtMs: number): PaceAnswer {
  if (outcome.succeeded) return { kind: 'accepted', sentAtMs, latencyMs: outcome.durationMs };
  if (!isLoadAnswer(outcome)) return { kind: 'neutral' };
  return outcome.retryAfterSeconds === undefined ? { kind: 'load', sentAtMs } : { kind: 'load', sentAtMs, retryAfterSeconds: outcome.retryAfterSeconds };
}

/** The window after one answer, and how long nothing new may start (0: no pause). */
export function paceAfter(window: PaceWindow, answer: PaceAnswer, nowMs: number, limits: PaceLimits): { window: PaceWindow; pauseMs: number } {
  switch (answer.kind) {
    case 'neutral':
      return { window, pauseMs: 0 };
    case 'accepted': {
      // Once per answer on every worker's busiest path: one new window, no closures.
      const latency = answer.latencyMs;
      const drift = window.limit <= 1 ? baselineDriftAlone : baselineDrift;
      const baselineMs = window.baselineMs === null || latency < window.baselineMs ? latency : window.baselineMs + (latency - window.baselineMs) * drift;
      const smoothedMs = window.smoothedMs === null ? latency : window.smoothedMs + (latency - window.smoothedMs) * smoothing;
      const tripLowestMs = Math.min(window.tripLowestMs ?? latency, latency);
      const tripAnswers = window.tripAnswers + 1;
      const limit = isSlow(latency, baselineMs) ? window.limit : Math.min(limits.ceiling, window.limit + (window.starting ? 1 : 1 / window.limit));
      const next: PaceWindow = { limit, starting: window.starting, baselineMs, smoothedMs, tripLowestMs, tripAnswers, tripSize: window.tripSize, lastDecreaseMs: window.lastDecreaseMs, loadStreak: 0 };
      if (tripAnswers < window.tripSize) return { window: next, pauseMs: 0 };
      // The round trip is complete: the next one is judged afresh.
      next.tripLowestMs = null;
      next.tripAnswers = 0;
      next.tripSize = windowSize(next);
      if (!isSlow(tripLowestMs, baselineMs) || answer.sentAtMs < window.lastDecreaseMs) return { window: next, pauseMs: 0 };
      // Queueing: shrink towards where latency was still acceptable (the gradient of Netflix's concurrency-limits).
      next.limit = Math.max(1, window.limit * Math.max(0.5, (baselineMs * climbFactor) / tripLowestMs));
      next.tripSize = windowSize(next);
      next.starting = false;
      next.lastDecreaseMs = nowMs;
      return { window: next, pauseMs: 0 };
    }
    case 'load': {
      const asked = answer.retryAfterSeconds === undefined ? 0 : Math.min(answer.retryAfterSeconds, longestPacedRetryAfterSeconds) * 1000;
      if (answer.sentAtMs < window.lastDecreaseMs) return { window, pauseMs: asked };
      const pause = Math.min(longestPauseMs, Math.max(firstPauseMs, window.smoothedMs ?? 0) * 2 ** window.loadStreak);
      const limit = Math.max(1, window.limit / 2);
      const shrunk = { ...window, limit, starting: false, lastDecreaseMs: nowMs, loadStreak: window.loadStreak + 1, tripLowestMs: null, tripAnswers: 0, tripSize: windowSize({ limit }) };
      return { window: shrunk, pauseMs: Math.max(pause, asked) };
    }
  }
}

/** A delivery refused for load this many times in a row counts as one failure of its lane. */
export const loadRefusalsPerFailure = 3;

/**
 * Whether a load answer is a pace signal that costs the delivery nothing (it
 * goes out again when the pace allows) or a failure, as any other. Only while
 * the endpoint shows that it takes requests (it accepted one lately, or others
 * are still in flight that may be accepted) and only a few times in a row: an
 * endpoint that accepts nothing is down, not busy.
 */
export function isPacedRefusal(outcome: AttemptOutcome, refusalsInARow: number, endpointTakesRequests: boolean): boolean {
  if (!isLoadAnswer(outcome) || !endpointTakesRequests) return false;
  if (outcome.succeeded || (outcome.retryAfterSeconds ?? 0) > longestPacedRetryAfterSeconds) return false;
  return refusalsInARow < loadRefusalsPerFailure;
}

// Receivers count by their own clock and requests take a few milliseconds to
// arrive: the throttle keeps its second a little longer than one.
export const throttleSecondMs = 1025;

/**
 * The customer's throttle (maxPerSecond): a sliding log of when requests went
 * out; the next may start when fewer than `perSecond` went out within the
 * last second. Returns the ms to wait (0: now).
 */
export function throttleWaitMs(sentMs: readonly number[], perSecond: number, nowMs: number): number {
  const recent = sentMs.filter((at) => at > nowMs - throttleSecondMs);
  if (recent.length < perSecond) return 0;
  const sorted = [...recent].sort((a, b) => a - b);
  return sorted[recent.length - perSecond]! + throttleSecondMs - nowMs;
}
