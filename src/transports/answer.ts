import type { Logger } from '../logger.js';
import { isDatabaseUnavailable } from '../storage/database.js';
import { ApiError, ErrorCode } from '../domain/errors.js';
import type { WebHook } from '../domain/webhook.js';
import type { AttemptOutcome } from '../domain/delivery.js';
import { messageIdOf } from '../domain/signature.js';
import type { DeliveryAttempt } from '../storage/attemptsStore.js';
import type { DeliveryView } from '../storage/deliveriesStore.js';
import type { Observer } from '../services/observer.js';
import type { Caller, FunctionName, Outcome, Webservice } from '../services/webservice.js';

/** The webservice's answer as both transports send it: error, message, result. */
export interface Answer {
  error: number;
  message: string;
  result?: unknown;
}

/** xsd:dateTime in UTC, second precision: what .NET, PHP and zeep all parse. */
export function wireDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A webhook as the WSDL's WebHook type orders it; absent optional fields are left out. */
export function wireWebHook(webhook: WebHook): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    id: webhook.id,
    app: webhook.app,
    event: webhook.event,
    url: webhook.url,
    active: webhook.active,
    createdAt: wireDateTime(webhook.createdAt),
  };
  if (webhook.deactivatedAt) wire.deactivatedAt = wireDateTime(webhook.deactivatedAt);
  wire.failureCount = webhook.failureCount;
  if (webhook.lastError) wire.lastError = webhook.lastError;
  wire.bufferedEvents = webhook.bufferedEvents;
  wire.secret = webhook.secret;
  // After the secret, so that clients that read the second release's sequence strictly still find theirs in order.
  wire.maxPerSecond = webhook.maxPerSecond ?? 0;
  // Names only: the values are write-only. Left out when there are none, as the third release answered.
  if (webhook.headerNames.length > 0) wire.headers = webhook.headerNames.map((name) => ({ name }));
  return wire;
}

/** A test request's outcome as the WSDL's TestResult orders it. */
export function wireTestResult(outcome: AttemptOutcome): Record<string, unknown> {
  const wire: Record<string, unknown> = { succeeded: outcome.succeeded };
  if (outcome.statusCode !== null) wire.statusCode = outcome.statusCode;
  wire.durationMs = Math.round(outcome.durationMs);
  if (!outcome.succeeded) {
    wire.failureClass = outcome.failureClass;
    wire.error = outcome.error;
  }
  return wire;
}

/** A delivery as the WSDL's Delivery orders it; messageId is the webhook-id header it was sent with. */
export function wireDelivery(delivery: DeliveryView): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    messageId: messageIdOf(delivery.id),
    event: delivery.event,
    occurredAt: wireDateTime(delivery.occurredAt),
    status: delivery.status,
    attempts: delivery.attempts,
  };
  if (delivery.lastAttemptAt) wire.lastAttemptAt = wireDateTime(delivery.lastAttemptAt);
  if (delivery.lastStatusCode !== null) wire.lastStatusCode = delivery.lastStatusCode;
  if (delivery.lastFailureClass) wire.lastFailureClass = delivery.lastFailureClass;
  if (delivery.lastError) wire.lastError = delivery.lastError;
  return wire;
}

/** An attempt as the WSDL's Attempt orders it; `response` is the start of the receiver's answer. */
export function wireAttempt(attempt: DeliveryAttempt): Record<string, unknown> {
  const wire: Record<string, unknown> = { attemptedAt: wireDateTime(attempt.attemptedAt), durationMs: attempt.durationMs };
  if (attempt.statusCode !== null) wire.statusCode = attempt.statusCode;
  if (attempt.failureClass) wire.failureClass = attempt.failureClass;
  if (attempt.error) wire.error = attempt.error;
  if (attempt.response !== null) wire.response = attempt.response;
  return wire;
}

export function wireResult(outcome: Outcome): unknown {
  switch (outcome.function) {
    case 'CreateWebHook':
      return wireWebHook(outcome.result);
    case 'GetWebHooks':
      return outcome.result.map(wireWebHook);
    case 'ActivateWebHook': {
      // New fields go last, after the second release's replayedEvents.
      const { maxPerSecond, headers, ...webhook } = wireWebHook(outcome.result.webhook);
      return { ...webhook, replayedEvents: outcome.result.replayedEvents, maxPerSecond, headers };
    }
    case 'DeleteWebHookById':
      return true;
    case 'TestWebHook':
      return wireTestResult(outcome.result);
    case 'GetWebHookDeliveries':
      return outcome.result.map(wireDelivery);
    case 'RotateWebHookSecret':
    case 'UpdateWebHook':
      return wireWebHook(outcome.result);
    case 'ResendWebHookDelivery':
      return wireDelivery(outcome.result);
    case 'RecoverWebHookDeliveries':
      return outcome.result;
    case 'GetWebHookDeliveryAttempts':
      return outcome.result.map(wireAttempt);
    case 'GetPortalLink':
      return outcome.result;
  }
}

export const brieflyUnavailable = 'the service is briefly unavailable; try again in a few seconds';

/** Domain errors keep their code and message; anything else is 99, detail only in the log. */
export function errorAnswer(error: unknown, log: Logger, context: Record<string, unknown>): Answer {
  if (error instanceof ApiError) return { error: error.code, message: error.message };
  if (isDatabaseUnavailable(error)) {
    log.warn({ ...context, code: (error as { code?: string }).code }, 'database unavailable');
    return { error: ErrorCode.internal, message: brieflyUnavailable };
  }
  log.error({ ...context, err: error }, 'internal error in webservice call');
  return { error: ErrorCode.internal, message: 'internal error' };
}

/**
 * One webservice function as a transport runs it: the answer (never a throw),
 * counted in the metrics and logged in one line without parameters.
 */
export async function answerCall(
  webservice: Webservice,
  call: { transport: 'soap' | 'json'; fn: FunctionName; params: Record<string, unknown>; caller: Caller },
  log: Logger,
  observer: Observer,
): Promise<Answer> {
  const started = performance.now();
  let answer: Answer;
  try {
    const outcome = await webservice.call(call.fn, call.params, call.caller);
    answer = { error: 0, message: outcome.message, result: wireResult(outcome) };
  } catch (error) {
    answer = errorAnswer(error, log, { transport: call.transport, function: call.fn });
  }
  observer.webserviceCall(call.transport, call.fn, answer.error);
  if (answer.error === ErrorCode.targetNotAllowed && /private|resolve/.test(answer.message)) {
    // The customer hears error 5; the operator testing on a private network learns what allows it.
    log.info({ transport: call.transport, function: call.fn, reason: answer.message }, 'target refused; ALLOW_PRIVATE_TARGETS=1 allows private and local addresses (for tests, never in production)');
  }
  log.info({ transport: call.transport, function: call.fn, error: answer.error, ms: Math.round(performance.now() - started) }, 'webservice call');
  return answer;
}
