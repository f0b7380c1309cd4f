import { invalid } from './errors.js';

/** A header of the customer's own, sent with every request of the webhook. */
export interface CustomHeader {
  name: string;
  value: string;
}

/** A header as a call names it: with a value, or null to keep the value stored under that name. */
export interface HeaderChange {
  name: string;
  value: string | null;
}

export const maxCustomHeaders = 10;
export const maxHeaderNameLength = 64;
export const maxHeaderValueLength = 1024;

// RFC 9110's token: what a field name may be.
const fieldName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII and spaces: no line break can split the request, no byte is read differently by another parser.
const fieldValue = /^[\x20-\x7e]*$/;
// The names that frame the request, and those the service sets itself (signature, event, body).
const reservedNames = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'expect',
  'user-agent', 'x-webhook-event',
]);
const reservedPrefixes = ['proxy-', 'webhook-'];

const parameter = 'headers';

function isReserved(name: string): boolean {
  const lower = name.toLowerCase();
  return reservedNames.has(lower) || reservedPrefixes.some((prefix) => lower.startsWith(prefix));
}

function readName(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw invalid(parameter, 'needs a name for every header');
  const name = raw.trim();
  if (name.length > maxHeaderNameLength) throw invalid(parameter, `has a header name longer than ${maxHeaderNameLength} characters`);
  if (!fieldName.test(name)) throw invalid(parameter, `has a header name that is not an HTTP token: '${name.replace(/[^\x20-\x7e]/g, '?')}'`);
  if (isReserved(name)) throw invalid(parameter, `may not set header '${name}': the service sets it or it frames the request`);
  return name;
}

function readValue(name: string, raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') throw invalid(parameter, `has a value for header '${name}' that is not text`);
  if (raw.length > maxHeaderValueLength) throw invalid(parameter, `has a value for header '${name}' longer than ${maxHeaderValueLength} characters`);
  if (!fieldValue.test(raw)) throw invalid(parameter, `has a value for header '${name}' with a character other than visible ASCII and spaces (a line break, a tab, an umlaut)`);
  return raw;
}

/**
 * The headers a call sends: a list of {name, value}, at most ten, names
 * unique without regard to case. Every transport hands them over as a list of
 * records (SOAP items, JSON objects); a form field holds the same list as JSON text.
 */
export function readHeaderChanges(raw: unknown): HeaderChange[] {
  let list = raw;
  if (typeof list === 'string') {
    try {
      list = list.trim() === '' ? [] : JSON.parse(list);
    } catch {
      throw invalid(parameter, 'must be a list of {name, value}; in a form field, as JSON text');
    }
  }
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))) {
    throw invalid(parameter, 'must be a list of {name, value}');
  }
  if (list.length > maxCustomHeaders) throw invalid(parameter, `may hold at most ${maxCustomHeaders} headers`);
  const seen = new Set<string>();
  return list.map((item: Record<string, unknown>) => {
    const name = readName(item.name);
    if (seen.has(name.toLowerCase())) throw invalid(parameter, `names header '${name}' twice`);
    seen.add(name.toLowerCase());
    return { name, value: readValue(name, item.value) };
  });
}

/** The headers after a change: the change's list, where a header without a value keeps the one stored under its name. */
export function applyHeaderChanges(stored: readonly CustomHeader[], changes: readonly HeaderChange[]): CustomHeader[] {
  return changes.map(({ name, value }) => {
    if (value !== null) return { name, value };
    const kept = stored.find((header) => header.name.toLowerCase() === name.toLowerCase());
    if (!kept) throw invalid(parameter, `has no value for header '${name}', and the webhook has none stored to keep`);
    return { name, value: kept.value };
  });
}

/** The request headers: the customer's first, so that none of the service's own can be replaced. */
export function withCustomHeaders(custom: readonly CustomHeader[], own: Record<string, string>): Record<string, string> {
  if (custom.length === 0) return own;
  const headers: Record<string, string> = {};
  for (const { name, value } of custom) headers[name] = value;
  return Object.assign(headers, own);
}
