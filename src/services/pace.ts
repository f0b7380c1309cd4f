import type { AttemptOutcome } from '../domain/delivery.js';
import {
  isPacedRefusal,
  paceAfter,
  paceAnswerOf,
  startingWindow,
  throttleSecondMs,
  throttleWaitMs,
  windowSize,
  type PaceLimits,
  type PaceWindow,
} from '../domain/pace.js';

// An endpoint that accepted a request this recently still takes requests.
const acceptedLatelyMs = 10_000;
// What a process learned of an origin outlives its leases by this much: a
// steady trickle of events leases and releases a webhook for each one.
const rememberedMs = 60_000;

/**
 * What one server takes, as this process learns it: the pace window of an
 * account's webhooks that send to one origin (scheme, host, port), what they
 * have in flight together, and a pause after a load signal. Shared by the
 * rounds of those webhooks; forgotten a minute after none of them is held.
 */
export class OriginPace {
  private window: PaceWindow;
  private inFlight = 0;
  private pausedUntilMs = 0;
  private acceptedAtMs = -Infinity;
  private readonly waiting = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  users = 0;
  /** When the last held webhook of the origin was released. */
  leftAtMs = 0;

  constructor(
    private readonly limits: PaceLimits,
    private readonly nowMs: () => number,
  ) {
    this.window = startingWindow(limits);
  }

  /** 0: a request may start now; a number: ms until it may; null: when one in flight ends. */
  waitMs(): number | null {
    const paused = this.pausedUntilMs - this.nowMs();
    if (paused > 0) return paused;
    return this.inFlight < windowSize(this.window) ? 0 : null;
  }

  /** Calls `wake` once when a request in flight ends or a pause is over. */
  whenRoom(wake: () => void): void {
    this.waiting.add(wake);
  }

  started(): void {
    this.inFlight += 1;
  }

  ended(outcome: AttemptOutcome, sentAtMs: number): void {
    this.inFlight -= 1;
    const now = this.nowMs();
    if (outcome.succeeded) this.acceptedAtMs = now;
    const { window, pauseMs } = paceAfter(this.window, paceAnswerOf(outcome, sentAtMs), now, this.limits);
    this.window = window;
    if (pauseMs > 0) this.pause(now + pauseMs);
    else if (now >= this.pausedUntilMs) this.wakeWhileRoom();
  }

  /** Whether the endpoint shows that it takes requests: one accepted lately, or others still in flight. */
  takesRequests(): boolean {
    return this.inFlight > 0 || this.nowMs() - this.acceptedAtMs < acceptedLatelyMs;
  }

  get size(): number {
    return windowSize(this.window);
  }

  private pause(untilMs: number): void {
    if (untilMs <= this.pausedUntilMs) return;
    this.pausedUntilMs = untilMs;
    this.wakeAfter(untilMs - this.nowMs());
  }

  private wakeAfter(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wakeWhileRoom(), Math.ceil(ms));
    this.timer.unref();
  }

  /**
   * Wakes queued rounds, first queued first, while there is room: a woken
   * round starts its attempts before the next is woken (or queues again, last),
   * so an answer wakes the one round it makes room for, not every round of the
   * origin, and a round that starts nothing passes the room on.
   */
  private wakeWhileRoom(): void {
    while (this.waiting.size > 0) {
      const wait = this.waitMs();
      // Full: the next answer wakes the next round. Paused (a timer may fire a little before the clock says the pause is over): the timer again.
      if (wait === null) return;
      if (wait > 0) return this.wakeAfter(wait);
      const wake = this.waiting.values().next().value!;
      this.waiting.delete(wake);
      wake();
    }
  }
}

/** The origin paces of one process, one per account and origin while a webhook of theirs is held, and a minute after. */
export class OriginPaces {
  private readonly paces = new Map<string, OriginPace>();
  private sweptAtMs = 0;

  constructor(
    private readonly limits: PaceLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  join(accountId: number, url: string): OriginPace {
    const key = `${accountId} ${new URL(url).origin}`;
    let pace = this.paces.get(key);
    if (!pace) {
      pace = new OriginPace(this.limits, this.nowMs);
      this.paces.set(key, pace);
    }
    pace.users += 1;
    return pace;
  }

  leave(pace: OriginPace): void {
    pace.users -= 1;
    const now = this.nowMs();
    if (pace.users === 0) pace.leftAtMs = now;
    // At most once a second: forget the origins no webhook has used for a minute.
    if (now - this.sweptAtMs < 1000) return;
    this.sweptAtMs = now;
    for (const [key, idle] of this.paces) if (idle.users === 0 && now - idle.leftAtMs > rememberedMs) this.paces.delete(key);
  }
}

/**
 * The pace of one leased webhook: its origin's window, the customer's
 * throttle (maxPerSecond, a log of when requests went out, seeded from the
 * attempts of the last second so that it holds across leases and workers),
 * and how often each delivery was refused for load in a row.
 */
export class WebhookPace {
  /** When requests went onto their connections (the receiver has them from then, give or take the network). */
  private readonly sent: number[] = [];
  /** When the requests not yet on a connection started: each holds its place from then until it is written. */
  private readonly unwritten: number[] = [];
  private readonly refusals = new Map<number, number>();

  constructor(
    readonly origin: OriginPace,
    private readonly maxPerSecond: number | null,
    private readonly clockMs: () => number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Requests of this webhook that started lately (by the clock attempts are recorded with). */
  seed(startedAtMs: number[]): void {
    this.sent.push(...startedAtMs);
  }

  /** 0: may start now; a number: ms to wait; null: until a request in flight ends. */
  waitMs(): number | null {
    const origin = this.origin.waitMs();
    if (this.maxPerSecond === null || origin === null) return origin;
    return Math.max(origin, throttleWaitMs(this.unwritten.length === 0 ? this.sent : this.sent.concat(this.unwritten), this.maxPerSecond, this.clockMs()));
  }

  whenRoom(wake: () => void): void {
    this.origin.whenRoom(wake);
  }

  /** A request starts now; returns when it was sent, for `ended`. */
  start(): number {
    if (this.maxPerSecond !== null) {
      const now = this.clockMs();
      forgetUpTo(this.sent, now - throttleSecondMs);
      forgetUpTo(this.unwritten, now - throttleSecondMs);
      this.unwritten.push(now);
    }
    this.origin.started();
    return this.nowMs();
  }

  /**
   * A request went onto its connection. One that waited for a new connection
   * reaches the receiver later than it started, and those after it on
   * connections already open sooner: counted from its start, a second's worth
   * could arrive within less than a second. The earliest start gives its place
   * up: whichever request it was, the log keeps the later times.
   */
  readonly written = (): void => {
    if (this.maxPerSecond === null) return;
    this.unwritten.shift();
    this.sent.push(this.clockMs());
  };

  /** The request ended: the origin learns from it; returns whether it was a paced refusal (it goes again, costing nothing). */
  ended(deliveryId: number, outcome: AttemptOutcome, sentAtMs: number): boolean {
    this.origin.ended(outcome, sentAtMs);
    const inARow = this.refusals.get(deliveryId) ?? 0;
    const paced = isPacedRefusal(outcome, inARow, this.origin.takesRequests());
    if (paced) this.refusals.set(deliveryId, inARow + 1);
    else this.refusals.delete(deliveryId);
    return paced;
  }

  /** Whether the endpoint took requests lately: a round that had only refusals from one that does not is a round of failures. */
  takesRequests(): boolean {
    return this.origin.takesRequests();
  }
}

/** Drops a time-ordered log's entries at or before `cutoffMs`. */
function forgetUpTo(log: number[], cutoffMs: number): void {
  while (log.length > 0 && log[0]! <= cutoffMs) log.shift();
}
