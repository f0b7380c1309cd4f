/**
 * The order rule of one webhook's deliveries: those of one subscriber leave one
 * at a time, in the order given (event order); different subscribers may be in
 * flight together. A subscriber whose delivery failed gets nothing more in this
 * round, so nothing of it overtakes the failed one. Key-less deliveries (null)
 * share one lane.
 */
export class SubscriberLanes<T extends { subscriber: string | null }> {
  private readonly waiting: T[];
  /** How many items of each lane wait: whether any may start is a look at the lanes, not at every item. */
  private readonly waitingPerLane = new Map<string | null, number>();
  private readonly busy = new Set<string | null>();
  private readonly blocked = new Set<string | null>();

  constructor(items: readonly T[]) {
    this.waiting = [...items];
    for (const item of items) this.count(item.subscriber, 1);
  }

  /** The earliest item whose subscriber has nothing in flight and nothing failed; undefined when none may start now. */
  next(): T | undefined {
    const i = this.waiting.findIndex((item) => this.isFree(item.subscriber));
    if (i < 0) return undefined;
    const [item] = this.waiting.splice(i, 1);
    this.count(item!.subscriber, -1);
    this.busy.add(item!.subscriber);
    return item;
  }

  /** Whether an item may start now (`next` would give one). */
  hasStartable(): boolean {
    for (const lane of this.waitingPerLane.keys()) if (this.isFree(lane)) return true;
    return false;
  }

  /** An item that must go again (refused for load): first in line, its subscriber not blocked. */
  requeue(item: T): void {
    this.busy.delete(item.subscriber);
    this.waiting.unshift(item);
    this.count(item.subscriber, 1);
  }

  finished(item: T, succeeded: boolean): void {
    this.busy.delete(item.subscriber);
    if (!succeeded) this.blocked.add(item.subscriber);
  }

  private isFree(lane: string | null): boolean {
    return !this.busy.has(lane) && !this.blocked.has(lane);
  }

  private count(lane: string | null, by: number): void {
    const left = (this.waitingPerLane.get(lane) ?? 0) + by;
    if (left === 0) this.waitingPerLane.delete(lane);
    else this.waitingPerLane.set(lane, left);
  }
}
