import { SaxesParser, type SaxesTagNS } from 'saxes';
import { functionNames, isFunctionName, type FunctionName } from '../../services/webservice.js';

export const soap11Namespace = 'http://schemas.xmlsoap.org/soap/envelope/';
export const soap12Namespace = 'http://www.w3.org/2003/05/soap-envelope';
export const serviceNamespace = 'urn:newsletter-webhooks';
const xsiNamespace = 'http://www.w3.org/2001/XMLSchema-instance';

/** A request that is not a SOAP 1.1 call of ours at all: answered with a SOAP Fault. */
export class SoapFault extends Error {
  constructor(
    readonly faultCode: 'Client' | 'VersionMismatch',
    message: string,
    readonly httpStatus = 500,
  ) {
    super(message);
  }
}

export interface SoapCall {
  function: FunctionName;
  /** Element text as sent, not converted: the webservice reads it strictly. */
  params: Record<string, unknown>;
}

/**
 * No call of ours nests deeper than Envelope > Body > function > parameter >
 * list > item > field, nor has more than a few dozen elements; a SOAP Header
 * (WS-Security and the like) adds a few of each. Refusing past these bounds
 * while the parser streams keeps every request under MAX_CALL_BYTES linear
 * and cheap: a namespace-aware parser pays per element for its depth.
 */
const maxSoapDepth = 32;
const maxSoapElements = 2000;
const maxSoapAttributes = 200;

/** One element as the reader keeps it: resolved name, and what a parameter needs. */
interface OpenElement {
  namespace: string;
  local: string;
  nil: boolean;
  text: string;
  hasChildren: boolean;
  /** A list parameter's items (ArrayOfHeader's Header elements), each its fields' text. */
  items: Array<Record<string, unknown>>;
}

/** An element's value: absent when nil, its text, or for a list parameter its items. */
const valueOf = (element: OpenElement): unknown => (element.nil ? undefined : element.hasChildren ? element.items : element.text);

/**
 * Reads a SOAP 1.1 document/literal call in one pass with saxes, a strict XML
 * parser: well-formedness, namespaces and character references (`&#98;` is
 * `b`, as in any XML) are its job; the structure (Envelope, Body, one function
 * element in our namespace, its parameters as text) is ours. Everything that is
 * not such a call is a SoapFault. A request with a DTD never reaches the
 * parser, so no entity besides the five predefined ones exists.
 */
export function parseSoapRequest(xml: string): SoapCall {
  if (xml.trim() === '') throw notSoap('the request is empty; expected a SOAP 1.1 envelope');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw notSoap('document type declarations are not allowed');
  const stack: OpenElement[] = [];
  let envelope: OpenElement | undefined;
  let sawBody = false;
  const functions: OpenElement[] = [];
  const params: SoapCall['params'] = {};
  let parameter: OpenElement | undefined;
  let item: OpenElement | undefined;
  let record: Record<string, unknown> = {};
  let field: OpenElement | undefined;
  let malformed = false;
  let elements = 0;
  let attributes = 0;

  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on('error', () => {
    malformed = true;
    throw notWellFormed;
  });
  parser.on('opentagstart', () => {
    if (stack.length >= maxSoapDepth) throw notSoap(`the request is nested more than ${maxSoapDepth} elements deep; no call needs that`);
    if (++elements > maxSoapElements) throw notSoap(`the request has more than ${maxSoapElements} elements; no call needs that`);
  });
  parser.on('attribute', () => {
    if (++attributes > maxSoapAttributes) throw notSoap(`the request has more than ${maxSoapAttributes} attributes; no call needs that`);
  });
  parser.on('opentag', (tag) => {
    const element: OpenElement = { namespace: tag.uri, local: tag.local, nil: isNil(tag), text: '', hasChildren: false, items: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.hasChildren = true;
    if (stack.length === 0) envelope = element;
    else if (stack.length === 1 && element.local === 'Body' && element.namespace === soap11Namespace && stack[0] === envelope) sawBody = true;
    else if (stack.length === 2 && stack[1]!.local === 'Body' && stack[1]!.namespace === soap11Namespace) functions.push(element);
    else if (stack.length === 3 && stack[2] === functions[0]) parameter = element;
    else if (parameter && parent === parameter) {
      item = element;
      record = {};
    }
    else if (item && parent === item) field = element;
    stack.push(element);
  });
  const onText = (text: string) => {
    const open = stack[stack.length - 1];
    if (open && (open === parameter || open === field)) open.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const element = stack.pop()!;
    if (element === field) {
      // A field with elements inside is no text: the webservice refuses it as "not text".
      record[element.local] = element.hasChildren ? {} : valueOf(element);
      field = undefined;
    } else if (element === item) {
      parameter!.items.push(record);
      item = undefined;
    } else if (element === parameter) {
      parameter = undefined;
      const value = valueOf(element);
      // A repeated parameter stays a list of values, which the webservice refuses as "not a single value".
      params[element.local] = element.local in params ? [params[element.local], value] : value;
    }
  });
  try {
    parser.write(xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml).close();
  } catch (error) {
    if (malformed || error === notWellFormed) throw notSoap('the request is not well-formed XML');
    throw error;
  }

  if (!envelope || envelope.local !== 'Envelope') throw notSoap('expected a SOAP Envelope element');
  if (envelope.namespace === soap12Namespace) {
    throw new SoapFault('VersionMismatch', 'SOAP 1.2 is not supported; send a SOAP 1.1 envelope (text/xml)');
  }
  if (envelope.namespace !== soap11Namespace) throw notSoap('the Envelope is not in the SOAP 1.1 namespace');
  if (!sawBody) throw notSoap('the Envelope has no Body');
  if (functions.length !== 1) throw notSoap('the Body must hold exactly one function element');
  const [call] = functions as [OpenElement];
  if (call.namespace !== serviceNamespace || !isFunctionName(call.local)) {
    throw notSoap(`unknown function '${call.local}'; the functions are ${functionNames.join(', ')}`);
  }
  return { function: call.local, params };
}

const notWellFormed = new Error('not well-formed');

function isNil(tag: SaxesTagNS): boolean {
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.local === 'nil' && attribute.uri === xsiNamespace) return attribute.value === 'true' || attribute.value === '1';
  }
  return false;
}

function notSoap(message: string): SoapFault {
  return new SoapFault('Client', message);
}
