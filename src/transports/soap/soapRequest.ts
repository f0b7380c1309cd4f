import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isFunctionName, type FunctionName } from '../../services/webservice.js';

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

// Entities are only the five predefined ones and character references: a
// request with a DTD never reaches the parser, so no entity can be declared.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
});

type XmlNode = Record<string, unknown>;
type Namespaces = Map<string, string>;

function declaredNamespaces(node: XmlNode, inherited: Namespaces): Namespaces {
  let scope = inherited;
  for (const key of Object.keys(node)) {
    if (key === '@xmlns' || key.startsWith('@xmlns:')) {
      if (scope === inherited) scope = new Map(inherited);
      scope.set(key === '@xmlns' ? '' : key.slice(7), String(node[key]));
    }
  }
  return scope;
}

function resolveName(qualified: string, namespaces: Namespaces): { namespace: string | undefined; local: string } {
  const colon = qualified.indexOf(':');
  if (colon < 0) return { namespace: namespaces.get(''), local: qualified };
  return { namespace: namespaces.get(qualified.slice(0, colon)), local: qualified.slice(colon + 1) };
}

function elementKeys(node: XmlNode): string[] {
  return Object.keys(node).filter((key) => !key.startsWith('@') && key !== '#text');
}

function isNil(node: XmlNode, namespaces: Namespaces): boolean {
  for (const key of Object.keys(node)) {
    if (!key.startsWith('@') || key.startsWith('@xmlns')) continue;
    const name = resolveName(key.slice(1), namespaces);
    if (name.local === 'nil' && name.namespace === xsiNamespace) return node[key] === 'true' || node[key] === '1';
  }
  return false;
}

/**
 * The text of one parameter element. An element with elements inside stays an
 * object, which the webservice refuses as "not a single value".
 */
function parameterValue(value: unknown, namespaces: Namespaces): string | object | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const node = value as XmlNode;
    const scope = declaredNamespaces(node, namespaces);
    if (isNil(node, scope)) return undefined;
    if (elementKeys(node).length > 0) return {};
    return typeof node['#text'] === 'string' ? node['#text'] : '';
  }
  return '';
}

function notSoap(message: string): SoapFault {
  return new SoapFault('Client', message);
}

/**
 * Reads a SOAP 1.1 document/literal call: the Envelope, its Body, the one
 * function element in our namespace, and its parameters as text. Everything
 * that is not such a call is a SoapFault.
 */
export function parseSoapRequest(xml: string): SoapCall {
  if (xml.trim() === '') throw notSoap('the request is empty; expected a SOAP 1.1 envelope');
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw notSoap('document type declarations are not allowed');
  if (XMLValidator.validate(xml) !== true) throw notSoap('the request is not well-formed XML');
  let document: XmlNode;
  try {
    document = parser.parse(xml) as XmlNode;
  } catch {
    throw notSoap('the request is not well-formed XML');
  }
  const rootKeys = elementKeys(document);
  if (rootKeys.length !== 1) throw notSoap('expected one SOAP Envelope element');
  const envelope = document[rootKeys[0]!];
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) throw notSoap('expected a SOAP Envelope element');
  const envelopeScope = declaredNamespaces(envelope as XmlNode, new Map());
  const envelopeName = resolveName(rootKeys[0]!, envelopeScope);
  if (envelopeName.local !== 'Envelope') throw notSoap('expected a SOAP Envelope element');
  if (envelopeName.namespace === soap12Namespace) {
    throw new SoapFault('VersionMismatch', 'SOAP 1.2 is not supported; send a SOAP 1.1 envelope (text/xml)');
  }
  if (envelopeName.namespace !== soap11Namespace) throw notSoap('the Envelope is not in the SOAP 1.1 namespace');

  const bodyKey = elementKeys(envelope as XmlNode).find((key) => {
    const name = resolveName(key, envelopeScope);
    return name.local === 'Body' && name.namespace === soap11Namespace;
  });
  const body = bodyKey === undefined ? undefined : (envelope as XmlNode)[bodyKey];
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw notSoap('the Envelope has no Body');
  const bodyScope = declaredNamespaces(body as XmlNode, envelopeScope);
  const functionKeys = elementKeys(body as XmlNode);
  if (functionKeys.length !== 1) throw notSoap('the Body must hold exactly one function element');
  const functionKey = functionKeys[0]!;
  const functionNode = (body as XmlNode)[functionKey];
  const element = functionNode && typeof functionNode === 'object' && !Array.isArray(functionNode) ? (functionNode as XmlNode) : {};
  const functionScope = declaredNamespaces(element, bodyScope);
  const name = resolveName(functionKey, functionScope);
  if (name.namespace !== serviceNamespace || !isFunctionName(name.local)) {
    throw notSoap(`unknown function '${name.local}'; the functions are CreateWebHook, GetWebHooks, ActivateWebHook, DeleteWebHookById`);
  }

  const params: SoapCall['params'] = {};
  for (const key of elementKeys(element)) {
    const local = resolveName(key, functionScope).local;
    const value = element[key];
    params[local] = Array.isArray(value) ? value : parameterValue(value, functionScope);
  }
  return { function: name.local, params };
}
