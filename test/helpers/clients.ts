import { createClientAsync } from 'soap';
import { wireDateTime } from '../../src/transports/answer.js';
import { runPhp } from './php.js';

export interface NormalisedAnswer {
  error: number;
  message: string;
  result?: any;
}

/** One way of calling the webservice, as a customer's program would. */
export interface WebserviceClient {
  name: string;
  call(fn: string, params: Record<string, unknown>): Promise<NormalisedAnswer>;
}

// The functions whose result is a list, and the element that holds its items over SOAP.
const listItems: Record<string, string> = { GetWebHooks: 'WebHook', GetWebHookDeliveries: 'Delivery', GetWebHookDeliveryAttempts: 'Attempt' };

/** A webhook's headers (an ArrayOfHeader over SOAP, one item an object without SOAP_SINGLE_ELEMENT_ARRAYS) as JSON has them: a list. */
function flattenHeaders(value: any): any {
  if (Array.isArray(value)) return value.map(flattenHeaders);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  const out: any = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'headers' ? v : flattenHeaders(v)]));
  if (out.headers && !Array.isArray(out.headers)) {
    const items = out.headers.Header ?? [];
    out.headers = Array.isArray(items) ? items : [items];
  }
  return out;
}

/** Request parameters as a SOAP client takes them: a list of headers is an ArrayOfHeader, its items under Header. */
function soapParams(params: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(params.headers) ? { ...params, headers: { Header: params.headers } } : params;
}

/** Dates to wire text, and a list to a plain array, whatever the client made of them. */
function normalise(fn: string, answer: any): NormalisedAnswer {
  const clean = (value: any): any => {
    if (value instanceof Date) return wireDateTime(value);
    if (Array.isArray(value)) return value.map(clean);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    return value;
  };
  const normalised: NormalisedAnswer = { error: Number(answer.error), message: answer.message ?? '' };
  let result = flattenHeaders(answer.result);
  const item = listItems[fn];
  if (item && result !== undefined && result !== null && !Array.isArray(result)) {
    const list = result[item] ?? [];
    result = Array.isArray(list) ? list : [list];
  }
  if (result !== undefined && result !== null) normalised.result = clean(result);
  return normalised;
}

export async function npmSoapClient(baseUrl: string): Promise<WebserviceClient> {
  const client = await createClientAsync(`${baseUrl}/soap?wsdl`);
  return {
    name: 'npm soap client',
    async call(fn, params) {
      const [response] = await (client as any)[`${fn}Async`](soapParams(params));
      return normalise(fn, response[`${fn}Result`]);
    },
  };
}

const phpCall = `
$in = json_decode(getenv('INPUT'), true);
$options = ['trace' => 1, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE];
if ($in['singleElementArrays']) $options['features'] = SOAP_SINGLE_ELEMENT_ARRAYS;
$client = new SoapClient($in['wsdl'], $options);
$fn = $in['fn'];
$response = $client->$fn($in['params']);
$result = $response->{$fn . 'Result'};
$items = ['GetWebHooks' => 'WebHook', 'GetWebHookDeliveries' => 'Delivery', 'GetWebHookDeliveryAttempts' => 'Attempt'];
if (isset($items[$fn]) && isset($result->result)) {
  // Without SOAP_SINGLE_ELEMENT_ARRAYS a list of one arrives as one object: what README shows.
  $item = $items[$fn];
  $list = isset($result->result->$item) ? $result->result->$item : [];
  if (!is_array($list)) $list = [$list];
  $result->result = [$item => $list];
}
echo json_encode($result);
`;

export function phpSoapClient(baseUrl: string, singleElementArrays = true): WebserviceClient {
  return {
    name: `PHP SoapClient${singleElementArrays ? ' (SOAP_SINGLE_ELEMENT_ARRAYS)' : ''}`,
    async call(fn, params) {
      const response = await runPhp<any>(phpCall, { wsdl: `${baseUrl}/soap?wsdl`, fn, params: soapParams(params), singleElementArrays });
      return normalise(fn, response);
    },
  };
}

export function jsonClient(baseUrl: string): WebserviceClient {
  return {
    name: 'JSON',
    async call(fn, params) {
      const response = await fetch(`${baseUrl}/json/${fn.toLowerCase()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      return normalise(fn, (await response.json()) as any);
    },
  };
}

/** Each client a customer uses, to run the same test through all of them. */
export const customerClients: Array<[string, (baseUrl: string) => Promise<WebserviceClient> | WebserviceClient]> = [
  ['npm soap', npmSoapClient],
  ['PHP SoapClient', (url) => phpSoapClient(url, true)],
  ['PHP SoapClient without SOAP_SINGLE_ELEMENT_ARRAYS', (url) => phpSoapClient(url, false)],
  ['JSON', jsonClient],
];
