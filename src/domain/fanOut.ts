/**
 * How a batch of accepted events becomes deliveries: which webhooks receive
 * each event, the sequence each delivery gets, and the sequence of the same
 * lane's previous delivery. Worked out for a whole batch at once, so that
 * intake locks the webhooks' counters once per batch instead of once per event.
 */

/** A webhook of an event's account and name, its counters as they stand before the batch. */
export interface CountingWebhook {
  id: number;
  accountId: number;
  event: string;
  active: boolean;
  deactivatedAt: Date | null;
  lastSequence: number;
  lastKeylessSequence: number;
  previousKeylessSequence: number;
}

export interface StoredEventToFanOut {
  id: number;
  accountId: number;
  event: string;
  subscriber: string | null;
  occurredAt: Date;
  /** Deactivated since: a webhook deactivated after this still buffers the event. */
  bufferSince: Date;
}

export interface PlannedDelivery {
  webhookId: number;
  eventId: number;
  /** When its event happened: deliveries leave in this order. */
  occurredAt: Date;
  sequence: number;
  previousSequence: number;
  /** The webhook is deactivated: the delivery waits for its activation. */
  buffered: boolean;
}

/** A webhook's counters after the batch, and how many events it dropped (deactivated before their buffer window). */
export interface WebhookCounters {
  lastSequence: number;
  lastKeylessSequence: number;
  previousKeylessSequence: number;
  droppedEvents: number;
}

export interface FanOutPlan {
  deliveries: PlannedDelivery[];
  /** Every webhook the batch concerned, with its counters after it. */
  counters: Map<number, WebhookCounters>;
  /** The last sequence of each subscriber lane the batch extended. */
  laneEnds: Array<{ webhookId: number; subscriber: string; lastSequence: number }>;
  deliveriesPerEvent: Map<number, number>;
}

/**
 * Events in the order they were accepted; `storedLaneEnd` is the last
 * sequence a subscriber's lane kept before the batch (undefined: none, as for
 * a lane purged with the retention). Sequences are gap-free per webhook.
 */
export function planFanOut(
  webhooks: readonly CountingWebhook[],
  events: readonly StoredEventToFanOut[],
  storedLaneEnd: (webhookId: number, subscriber: string) => number | undefined,
): FanOutPlan {
  const counters = new Map(webhooks.map((w) => [w.id, { lastSequence: w.lastSequence, lastKeylessSequence: w.lastKeylessSequence, previousKeylessSequence: w.previousKeylessSequence, droppedEvents: 0 }]));
  const laneEnds = new Map<string, { webhookId: number; subscriber: string; lastSequence: number }>();
  const deliveries: PlannedDelivery[] = [];
  const deliveriesPerEvent = new Map<number, number>();
  const receiving = new Map<string, CountingWebhook[]>();
  for (const webhook of webhooks) {
    const key = `${webhook.accountId}\u0000${webhook.event}`;
    const same = receiving.get(key);
    if (same) same.push(webhook);
    else receiving.set(key, [webhook]);
  }
  for (const event of events) {
    let made = 0;
    for (const webhook of receiving.get(`${event.accountId}\u0000${event.event}`) ?? []) {
      const counter = counters.get(webhook.id)!;
      const receives = webhook.active || (webhook.deactivatedAt !== null && webhook.deactivatedAt >= event.bufferSince);
      if (!receives) {
        if (webhook.deactivatedAt !== null) counter.droppedEvents += 1;
        continue;
      }
      counter.lastSequence += 1;
      let previousSequence: number;
      if (event.subscriber === null) {
        counter.previousKeylessSequence = counter.lastKeylessSequence;
        counter.lastKeylessSequence = counter.lastSequence;
        previousSequence = counter.previousKeylessSequence;
      } else {
        const lane = `${webhook.id}\u0000${event.subscriber}`;
        previousSequence = laneEnds.get(lane)?.lastSequence ?? storedLaneEnd(webhook.id, event.subscriber) ?? 0;
        laneEnds.set(lane, { webhookId: webhook.id, subscriber: event.subscriber, lastSequence: counter.lastSequence });
      }
      deliveries.push({ webhookId: webhook.id, eventId: event.id, occurredAt: event.occurredAt, sequence: counter.lastSequence, previousSequence, buffered: !webhook.active });
      made += 1;
    }
    deliveriesPerEvent.set(event.id, made);
  }
  return { deliveries, counters, laneEnds: [...laneEnds.values()], deliveriesPerEvent };
}
