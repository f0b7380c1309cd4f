import { ApiError, ErrorCode, invalid, missing } from './errors.js';
import { textNestsDeeperThan, valueNestsDeeperThan } from './jsonDepth.js';
import { readDateTime } from './parameters.js';
import { isEventName, type EventName } from './webhook.js';

/** An event as the platform reports it, checked and ready to store. */
export interface ReportedEvent {
  account: string;
  event: EventName;
  /** The payload's JSON text, passed to receivers unchanged. */
  payload: string;
  occurredAt: Date;
  /** Orders deliveries and names the data for erasure; null: the webhook's one key-less lane. */
  subscriber: string | null;
  /** The platform's own id for the event: the same id again is the same event. Null when none was given. */
  id: string | null;
}

/** An event's id as the platform gives it: a string (or a whole number) of at most 255 characters. */
function readEventId(given: unknown): string | null {
  if (!isGiven(given)) return null;
  if (typeof given !== 'string' && !(typeof given === 'number' && Number.isSafeInteger(given))) throw invalid('id', 'must be a string');
  const id = String(given);
  if (id.length > 255) throw invalid('id', 'is longer than 255 characters');
  return id;
}

export const maxSubscriberLength = 255;

/**
 * What each event's payload looks like, for integrations that want an example
 * before the first real one (Zapier's samples): the platform's sign-up payload
 * as the contract shows it, and the same shape for the other two.
 */
export const samplePayloads: Record<EventName, Record<string, unknown>> = {
  optin_finalized: {
    id: 371, optinsetup_id: 60, subscriber_id: 6049065,
    fields: [{ id: 1, value: 'max.muster@example.com' }, { id: 3, value: 'Max' }],
    lists: [{ id: 1, value: 1 }, { id: 3, value: 0 }],
    activate_at: '2025-11-11 09:27:29',
  },
  optout_finalized: {
    id: 372, optoutsetup_id: 12, subscriber_id: 6049065,
    fields: [{ id: 1, value: 'max.muster@example.com' }],
    lists: [{ id: 1, value: 0 }],
    deactivate_at: '2025-11-12 10:15:02',
  },
  profilemanager_finalized: {
    id: 373, profilemanager_id: 7, subscriber_id: 6049065,
    fields: [{ id: 1, value: 'max.muster@example.com' }, { id: 3, value: 'Maximilian' }],
    lists: [{ id: 1, value: 1 }, { id: 3, value: 1 }],
    changed_at: '2025-11-13 08:02:44',
  },
};

/** What stands where an erased subscriber's data was copied into a text of ours. */
export const erasedText = '[erased]';

const isGiven = (value: unknown) => value !== undefined && value !== null && value !== '';

/** A subscriber key the caller names (intake, erasure): a string or a number, as text, at most maxSubscriberLength characters. */
export function readSubscriberKey(given: unknown): string {
  if (!isGiven(given)) throw missing('subscriber');
  if (typeof given !== 'string' && typeof given !== 'number') throw invalid('subscriber', 'must be a string or a number');
  const key = String(given);
  if (key.length > maxSubscriberLength) throw invalid('subscriber', `is longer than ${maxSubscriberLength} characters`);
  return key;
}

/**
 * The subscriber key: the intake's own `subscriber` field when given, else the
 * payload's `subscriber_id` when it is a plain number or string, else none.
 */
export function subscriberKeyOf(given: unknown, payload: Record<string, unknown>): string | null {
  if (isGiven(given)) return readSubscriberKey(given);
  const fromPayload = payload.subscriber_id;
  if ((typeof fromPayload === 'number' && Number.isFinite(fromPayload)) || (typeof fromPayload === 'string' && fromPayload !== '')) {
    const key = String(fromPayload);
    return key.length <= maxSubscriberLength ? key : null;
  }
  return null;
}

/** How large and how deeply nested a payload may be (MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH). */
export interface PayloadLimits {
  maxPayloadBytes: number;
  maxPayloadDepth: number;
}

export const payloadTooDeep = (maxPayloadDepth: number) => `is nested more than ${maxPayloadDepth} levels deep (MAX_PAYLOAD_DEPTH)`;

/**
 * Checks one event from any intake path. `payload` may be an object or its JSON
 * text (the outbox and the command line carry text); either way it must be a
 * JSON object no larger than maxPayloadBytes and no deeper than maxPayloadDepth.
 */
export function readReportedEvent(input: unknown, now: Date, { maxPayloadBytes, maxPayloadDepth }: PayloadLimits): ReportedEvent {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new ApiError(ErrorCode.invalidParameter, 'an event must be an object with account, event and payload');
  }
  const raw = input as Record<string, unknown>;
  if (typeof raw.account !== 'string' || raw.account === '') throw missing('account');
  if (typeof raw.event !== 'string' || raw.event === '') throw missing('event');
  if (!isEventName(raw.event)) throw invalid('event', 'must be optin_finalized, optout_finalized or profilemanager_finalized');
  if (raw.payload === undefined || raw.payload === null) throw missing('payload');

  let payload: string;
  let fields: Record<string, unknown>;
  if (typeof raw.payload === 'string') {
    if (textNestsDeeperThan(raw.payload, maxPayloadDepth)) throw invalid('payload', payloadTooDeep(maxPayloadDepth));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.payload);
    } catch {
      throw invalid('payload', 'is not valid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('payload', 'must be a JSON object');
    payload = raw.payload;
    fields = parsed as Record<string, unknown>;
  } else if (typeof raw.payload === 'object' && !Array.isArray(raw.payload)) {
    if (valueNestsDeeperThan(raw.payload, maxPayloadDepth)) throw invalid('payload', payloadTooDeep(maxPayloadDepth));
    payload = JSON.stringify(raw.payload);
    fields = raw.payload as Record<string, unknown>;
  } else {
    throw invalid('payload', 'must be a JSON object');
  }
  if (Buffer.byteLength(payload) > maxPayloadBytes) throw invalid('payload', `is larger than ${maxPayloadBytes} bytes`);

  let occurredAt = now;
  if (raw.occurredAt !== undefined && raw.occurredAt !== null && raw.occurredAt !== '') {
    // A zero date in a DATETIME column comes back as an invalid Date.
    if (raw.occurredAt instanceof Date && Number.isNaN(raw.occurredAt.getTime())) throw invalid('occurredAt', 'is not a valid date and time');
    occurredAt = readDateTime('occurredAt', raw.occurredAt instanceof Date ? raw.occurredAt.toISOString() : String(raw.occurredAt));
  }
  return { account: raw.account, event: raw.event, payload, occurredAt, subscriber: subscriberKeyOf(raw.subscriber, fields), id: readEventId(raw.id) };
}
