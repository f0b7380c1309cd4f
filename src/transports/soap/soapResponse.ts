import type { Answer } from '../answer.js';
import type { FunctionName } from '../../services/webservice.js';
import { serviceNamespace, soap11Namespace } from './soapRequest.js';

// Byte for byte what the `soap` package writes for these answers (the golden
// tests compare the two), except that every string is escaped: the package
// passes a value that looks like CDATA through raw, which would let a stored
// app name inject XML.
const prologue = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${soap11Namespace}"  xmlns:tns="${serviceNamespace}"><soap:Body>`;
const epilogue = '</soap:Body></soap:Envelope>';

const escapes: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#x9;', '\r': '&#xD;', '\n': '&#xA;',
};

const needsEscaping = /[&<>"'\u0000-\u001f\ufffe\uffff]/;

export function escapeXml(text: string): string {
  // Most values (ids, URLs, dates) need nothing: one test spares two replaces on the hot path.
  if (!needsEscaping.test(text)) return text;
  // Characters XML 1.0 cannot carry at all are dropped rather than breaking the answer.
  return text.replace(/[&<>"'\t\r\n]/g, (c) => escapes[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

function element(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    if (Array.isArray(value)) {
      let items = '';
      for (const item of value) items += element(name, item);
      return items;
    }
    let inner = '';
    for (const key in value) inner += element(key, (value as Record<string, unknown>)[key]);
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`;
}

const listItems: Partial<Record<FunctionName, string>> = { GetWebHooks: 'WebHook', GetWebHookDeliveries: 'Delivery', GetWebHookDeliveryAttempts: 'Attempt' };

/** A webhook's headers are an ArrayOfHeader: the names, each in a Header element. */
function withHeaderItems(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withHeaderItems);
  const headers = (value as { headers?: unknown } | null)?.headers;
  return headers === undefined ? value : { ...(value as object), headers: { Header: headers } };
}

/**
 * The `<Function>Result` object: error, message, result in schema order. A
 * list is an ArrayOf…: its items repeated inside result (WebHook, Delivery).
 */
export function resultObject(fn: FunctionName, answer: Answer): Record<string, unknown> {
  const item = listItems[fn];
  const result = withHeaderItems(answer.result);
  return { error: answer.error, message: answer.message, result: item && Array.isArray(result) ? { [item]: result } : result };
}

export function renderResponse(fn: FunctionName, answer: Answer): string {
  const body = element(`${fn}Result`, resultObject(fn, answer));
  return `${prologue}<${fn}Response xmlns="${serviceNamespace}">${body}</${fn}Response>${epilogue}`;
}

export function renderFault(code: 'Client' | 'Server' | 'VersionMismatch', message: string): string {
  return `${prologue}<soap:Fault><faultcode>soap:${code}</faultcode><faultstring>${escapeXml(message)}</faultstring></soap:Fault>${epilogue}`;
}
