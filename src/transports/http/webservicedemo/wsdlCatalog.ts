import { XMLParser } from 'fast-xml-parser';
import { functionNames, type FunctionName } from '../../../services/webservice.js';

import type { Language } from '../../i18n.js';

export interface ParameterDoc {
  name: string;
  type: 'string' | 'int' | 'boolean' | 'headers';
  optional: boolean;
  doc: Record<Language, string>;
}

export interface FunctionDoc {
  name: FunctionName;
  doc: Record<Language, string>;
  parameters: ParameterDoc[];
}

type Node = Record<string, unknown>;

// The WSDL marks every string minOccurs="0", so that a client may leave one out
// and hear error 2 from the server; these the service requires all the same.
const requiredByService = new Set(['username', 'password', 'CreateWebHook.app', 'CreateWebHook.event', 'CreateWebHook.url']);
const list = (value: unknown): Node[] => (value === undefined ? [] : Array.isArray(value) ? (value as Node[]) : [value as Node]);

function documentation(element: Node): Record<Language, string> {
  const docs = list((element['xs:annotation'] as Node | undefined)?.['xs:documentation']);
  const text = (language: Language) => {
    const found = docs.find((d) => d['@xml:lang'] === language) ?? docs[0];
    return String(found?.['#text'] ?? '').replace(/\s+/g, ' ').trim();
  };
  return { en: text('en'), de: text('de') };
}

/**
 * The functions as the WSDL documents them, in both languages: the
 * Webservicedemo shows this, so the page and the WSDL cannot disagree.
 */
export function readFunctionDocs(wsdl: string): FunctionDoc[] {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', alwaysCreateTextNode: true });
  const definitions = (parser.parse(wsdl) as Node)['wsdl:definitions'] as Node;
  const schema = ((definitions['wsdl:types'] as Node)['xs:schema']) as Node;
  const elements = list(schema['xs:element']);
  return functionNames.map((name) => {
    const element = elements.find((e) => e['@name'] === name);
    if (!element) throw new Error(`the WSDL has no element ${name}`);
    const sequence = ((element['xs:complexType'] as Node)['xs:sequence']) as Node;
    const parameters = list(sequence['xs:element']).map((parameter) => ({
      name: String(parameter['@name']),
      type: parameter['@type'] === 'tns:ArrayOfHeader' ? 'headers' : (String(parameter['@type']).replace(/^xs:/, '') as ParameterDoc['type']),
      optional: parameter['@minOccurs'] === '0' && !requiredByService.has(String(parameter['@name'])) && !requiredByService.has(`${name}.${String(parameter['@name'])}`),
      doc: documentation(parameter),
    }));
    return { name, doc: documentation(element), parameters };
  });
}
