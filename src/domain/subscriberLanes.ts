/**
 * The order rule of one webhook's deliveries: those of one subscriber leave one
 * at a time, in the order given (event order); different subscribers may be in
 * flight together. A subscriber whose delivery failed gets nothing more in this
 * round, so nothing of it overtakes the failed one. Key-less deliveries (null)
 * share one lane.
 */
export class SubscriberLanes<T extends { subscriber: string | null }> {
  private readonly waiting: T[];
  private readonly busy = new Set<string | null>();
  private readonly blocked = new Set<string | null>();

  constructor(items: readonly T[]) {
    this.waiting = [...items];
  }

  /** The earliest item whose subscriber has nothing in flight and nothing failed; undefined when none may start now. */
  next(): T | undefined {
    const i = this.startable();
    if (i < 0) return undefined;
    const [item] = this.waiting.splice(i, 1);
    this.busy.add(item!.subscriber);
    return item;
  }

  /** Whether an item may start now (`next` would give one). */
  hasStartable(): boolean {
    return this.startable() >= 0;
  }

  private startable(): number {
    return this.waiting.findIndex((item) => !this.busy.has(item.subscriber) && !this.blocked.has(item.subscriber));
  }

  /** An item that must go again (refused for load): first in line, its subscriber not blocked. */
  requeue(item: T): void {
    this.busy.delete(item.subscriber);
    this.waiting.unshift(item);
  }

  finished(item: T, succeeded: boolean): void {
    this.busy.delete(item.subscriber);
    if (!succeeded) this.blocked.add(item.subscriber);
  }
}
