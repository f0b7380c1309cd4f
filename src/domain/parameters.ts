import { invalid, missing } from './errors.js';
import { deliveryIdOf } from './signature.js';

/**
 * Parameters arrive as text from every transport (SOAP element text, form
 * fields, JSON values); these read them strictly, so "12x" is never id 12.
 */
export type RawParameters = Record<string, unknown>;

function text(params: RawParameters, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalid(name, 'must be a single value');
}

export function requiredText(params: RawParameters, name: string): string {
  const value = text(params, name);
  if (value === undefined || value.trim() === '') throw missing(name);
  return value;
}

/** An optional filter: absent and empty both mean "no filter". */
export function optionalText(params: RawParameters, name: string): string | undefined {
  const value = text(params, name);
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function requiredId(params: RawParameters, name: string): number {
  const value = requiredText(params, name).trim();
  if (!/^\+?\d{1,10}$/.test(value) || Number(value) > 2147483647 || Number(value) < 1) {
    throw invalid(name, 'must be a positive integer');
  }
  return Number(value);
}

export function optionalBoolean(params: RawParameters, name: string): boolean {
  const value = text(params, name)?.trim().toLowerCase();
  if (value === undefined || value === '') return false;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw invalid(name, 'must be 1, 0, true or false');
}

/** An optional whole number within bounds; absent or empty is `fallback`. */
export function optionalInteger(params: RawParameters, name: string, bounds: { min: number; max: number; fallback: number }): number {
  const value = text(params, name)?.trim();
  if (value === undefined || value === '') return bounds.fallback;
  if (!/^[+-]?\d{1,10}$/.test(value) || Number(value) < bounds.min || Number(value) > bounds.max) {
    throw invalid(name, `must be a whole number from ${bounds.min} to ${bounds.max}`);
  }
  return Number(value);
}

/** A throttle in requests per second (`maxPerSecond`): absent, empty or 0 is none (null). */
export function optionalPerSecond(params: RawParameters, name: string, max: number): number | null {
  const perSecond = optionalInteger(params, name, { min: 0, max, fallback: 0 });
  return perSecond === 0 ? null : perSecond;
}

/** An optional value from a fixed set; absent or empty is undefined. */
export function optionalChoice<T extends string>(params: RawParameters, name: string, choices: readonly T[]): T | undefined {
  const value = text(params, name)?.trim();
  if (value === undefined || value === '') return undefined;
  if (!(choices as readonly string[]).includes(value)) throw invalid(name, `must be one of ${choices.join(', ')}`);
  return value as T;
}

/** A delivery named by the webhook-id it is sent with (msg_…). */
export function requiredMessageId(params: RawParameters, name: string): number {
  const id = deliveryIdOf(requiredText(params, name).trim());
  if (id === undefined) throw invalid(name, 'must be a webhook-id such as msg_123');
  return id;
}

/** ISO 8601 date and time; without a zone it is UTC. */
export function readDateTime(name: string, text: string): Date {
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw invalid(name, 'must be an ISO 8601 date and time such as 2026-11-11T09:27:29Z');
  }
  return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

export function requiredDateTime(params: RawParameters, name: string): Date {
  return readDateTime(name, requiredText(params, name).trim());
}

export function optionalDateTime(params: RawParameters, name: string): Date | undefined {
  const value = optionalText(params, name);
  return value === undefined ? undefined : readDateTime(name, value.trim());
}
