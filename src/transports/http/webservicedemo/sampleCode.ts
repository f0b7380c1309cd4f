import type { FunctionName } from '../../../services/webservice.js';
import { escapeXml } from '../../soap/soapResponse.js';
import { serviceNamespace } from '../../soap/soapRequest.js';
import type { ParameterDoc } from './wsdlCatalog.js';

export const sampleLanguages = ['php', 'csharp', 'python', 'javascript', 'curl'] as const;
export type SampleLanguage = (typeof sampleLanguages)[number];

export const passwordPlaceholder = 'YOUR_PASSWORD';
export const usernamePlaceholder = 'YOUR_USERNAME';

/** One filled-in call: the values as the user typed them; absent ones are left out. */
export interface SampleCall {
  fn: FunctionName;
  endpoint: string;
  parameters: ParameterDoc[];
  values: Record<string, string | undefined>;
}

type Header = { name: string; value: string | null };
type Value = { kind: 'string'; text: string } | { kind: 'int'; value: number } | { kind: 'boolean'; value: boolean } | { kind: 'headers'; headers: Header[] };

/**
 * The demo's headers field: one `Name: value` a line; a line with a name
 * alone keeps the stored value (UpdateWebHook). Blank lines are left out.
 */
export function readHeaderLines(text: string): Header[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => {
    const colon = line.indexOf(':');
    return colon < 0 ? { name: line.trim(), value: null } : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
  });
}

/** The headers field as the page shows a request it ran: the values are write-only, like the password. */
export function maskHeaderLines(text: string | undefined): string | undefined {
  return text === undefined ? undefined : readHeaderLines(text).map((h) => (h.value === null ? h.name : `${h.name}: ********`)).join('\n');
}

/** The parameters the sample sends, typed as the WSDL says; a malformed id stays text, so the server can answer error 3. */
function presentValues(call: SampleCall): Array<[string, Value]> {
  const out: Array<[string, Value]> = [];
  for (const parameter of call.parameters) {
    const raw = call.values[parameter.name];
    if (parameter.type === 'boolean') {
      if (raw === '1' || raw === 'true') out.push([parameter.name, { kind: 'boolean', value: true }]);
      continue;
    }
    if (raw === undefined || raw === '') {
      // A required parameter stays in the sample, so that it shows what to fill in.
      if (!parameter.optional) out.push([parameter.name, { kind: 'string', text: parameter.name === 'username' ? usernamePlaceholder : '' }]);
      continue;
    }
    if (parameter.type === 'headers') out.push([parameter.name, { kind: 'headers', headers: readHeaderLines(raw) }]);
    else if (parameter.type === 'int' && /^\d{1,9}$/.test(raw)) out.push([parameter.name, { kind: 'int', value: Number(raw) }]);
    else out.push([parameter.name, { kind: 'string', text: raw }]);
  }
  return out;
}

// Characters a reader cannot see or that some language, editor or terminal
// takes for the end of a line: C0 and C1 controls, DEL, NEL (U+0085), and the
// line and paragraph separators (U+2028, U+2029). Every sample writes them as
// escapes, so that the code compiles and shows on the page as what it is.
const invisible = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');

// JSON's string syntax is valid JavaScript and Python string syntax (quotes and
// backslashes escaped, umlauts kept as they are); what JSON leaves raw of the
// invisible characters is escaped on top.
const quoted = (text: string) => JSON.stringify(text).replace(invisible, (c) => `\\u${hex4(c)}`);
// Single quotes as PHP code usually has them; double quotes only where an
// escape is needed (PHP's single quotes have none), with `$` escaped against interpolation.
const phpQuoted = (text: string) =>
  new RegExp(invisible.source).test(text)
    ? `"${text.replace(/[\\"$]/g, (c) => `\\${c}`).replace(invisible, (c) => `\\u{${hex4(c)}}`)}"`
    : `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const csharpQuoted = (text: string) =>
  `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(invisible, (c) => `\\u${hex4(c)}`)}"`;

type CodeLanguage = 'php' | 'python' | 'javascript' | 'csharp';

/** A list of headers as each language's SOAP client takes an ArrayOfHeader: its items under Header. */
function headersLiteral(headers: Header[], language: CodeLanguage): string {
  const text = (t: string) => literal({ kind: 'string', text: t }, language);
  const items = headers.map(({ name, value }) => {
    const fields: Array<[string, string]> = [['name', text(name)], ...(value === null ? [] : [['value', text(value)] as [string, string]])];
    if (language === 'php') return `[${fields.map(([k, v]) => `'${k}' => ${v}`).join(', ')}]`;
    if (language === 'python') return `{${fields.map(([k, v]) => `'${k}': ${v}`).join(', ')}}`;
    if (language === 'csharp') return `new Header { ${fields.map(([k, v]) => `${k} = ${v}`).join(', ')} }`;
    return `{ ${fields.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  });
  if (language === 'php') return `['Header' => [${items.join(', ')}]]`;
  if (language === 'python') return `{'Header': [${items.join(', ')}]}`;
  if (language === 'csharp') return `new Header[] { ${items.join(', ')} }`;
  return `{ Header: [${items.join(', ')}] }`;
}

function literal(value: Value, language: CodeLanguage): string {
  if (value.kind === 'headers') return headersLiteral(value.headers, language);
  if (value.kind === 'int') return String(value.value);
  if (value.kind === 'boolean') return language === 'python' ? (value.value ? 'True' : 'False') : String(value.value);
  if (language === 'php') return phpQuoted(value.text);
  if (language === 'csharp') return csharpQuoted(value.text);
  return quoted(value.text);
}

/** Element text for an envelope a person reads: XML escapes, and invisible characters as character references. */
const envelopeText = (text: string) => escapeXml(text).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);

/** The raw request envelope, indented, as curl sends it and the demo shows it. */
export function requestEnvelope(fn: FunctionName, values: Array<[string, Value]>): string {
  const lines = values.map(([name, value]) => {
    if (value.kind !== 'headers') return `      <${name}>${envelopeText(value.kind === 'string' ? value.text : String(value.value))}</${name}>`;
    const items = value.headers.map((h) => `        <Header><name>${envelopeText(h.name)}</name>${h.value === null ? '' : `<value>${envelopeText(h.value)}</value>`}</Header>`);
    return [`      <${name}>`, ...items, `      </${name}>`].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">',
    '  <soap:Body>',
    `    <${fn} xmlns="${serviceNamespace}">`,
    ...lines,
    `    </${fn}>`,
    '  </soap:Body>',
    '</soap:Envelope>',
  ].join('\n');
}

export function requestEnvelopeFor(call: SampleCall): string {
  return requestEnvelope(call.fn, presentValues(call));
}

const shellQuoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function php(call: SampleCall, values: Array<[string, Value]>): string {
  const result = {
    CreateWebHook: 'echo "Webhook {$answer->result->id} created, signing secret {$answer->result->secret}\\n";',
    GetWebHooks: `foreach ($answer->result->WebHook ?? [] as $webhook) {\n    echo "{$webhook->id} {$webhook->app} {$webhook->event} {$webhook->url} " . ($webhook->active ? 'active' : 'deactivated') . "\\n";\n}`,
    ActivateWebHook: 'echo "Webhook {$answer->result->id} is active, {$answer->result->replayedEvents} buffered events queued\\n";',
    DeleteWebHookById: 'echo "Webhook deleted\\n";',
    TestWebHook: `$test = $answer->result;\necho $test->succeeded ? "Test passed: HTTP {$test->statusCode} in {$test->durationMs} ms\\n" : "Test failed ({$test->failureClass}): {$test->error}\\n";`,
    GetWebHookDeliveries: `foreach ($answer->result->Delivery ?? [] as $delivery) {\n    echo "{$delivery->messageId} {$delivery->event} {$delivery->occurredAt} {$delivery->status}, {$delivery->attempts} attempts\\n";\n}`,
    RotateWebHookSecret: 'echo "Webhook {$answer->result->id}: new signing secret {$answer->result->secret}\\n";',
    ResendWebHookDelivery: 'echo "{$answer->result->messageId} is {$answer->result->status} again, sent after the waiting events of its subscriber\\n";',
    RecoverWebHookDeliveries: 'echo "{$answer->result->scheduled} deliveries scheduled again\\n";',
    GetPortalLink: 'echo "Open within the hour, once: {$answer->result}\\n";',
    UpdateWebHook: 'echo "Webhook {$answer->result->id} now sends to {$answer->result->url}\\n";',
    GetWebHookDeliveryAttempts: `foreach ($answer->result->Attempt ?? [] as $attempt) {\n    echo "{$attempt->attemptedAt} " . ($attempt->statusCode ?? '-') . " {$attempt->durationMs} ms " . ($attempt->error ?? 'ok') . "\\n" . ($attempt->response ?? '') . "\\n";\n}`,
  }[call.fn];
  return `<?php
// ${call.fn} through PHP's SoapClient (extension php-soap).
// SOAP_SINGLE_ELEMENT_ARRAYS: a list of one webhook stays a list (a list sent,
// such as headers, is written the same way with or without it).
$client = new SoapClient(${phpQuoted(`${call.endpoint}?wsdl`)}, [
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
    'exceptions' => true,
]);
$answer = $client->${call.fn}([
${values.map(([name, value]) => `    '${name}' => ${literal(value, 'php')},`).join('\n')}
])->${call.fn}Result;
if ($answer->error !== 0) {
    fwrite(STDERR, "${call.fn} failed with error {$answer->error}: {$answer->message}\\n");
    exit(1);
}
${result}
`;
}

function csharp(call: SampleCall, values: Array<[string, Value]>): string {
  const byName = new Map(values);
  // The proxy's method takes every parameter in WSDL order; an absent string is null.
  const args = call.parameters.flatMap((parameter) => {
    const value = byName.get(parameter.name);
    if (parameter.type === 'boolean') return [value?.kind === 'boolean' && value.value ? 'true' : 'false', value ? 'true' : 'false'];
    if (parameter.type === 'headers') return [value ? literal(value, 'csharp') : 'null'];
    if (parameter.type === 'int') {
      const number = value?.kind === 'int' ? String(value.value) : '0';
      // An optional int comes with its "Specified" flag, as for booleans.
      return parameter.optional ? [number, value ? 'true' : 'false'] : [number];
    }
    return [value ? literal(value, 'csharp') : 'null'];
  });
  const result = {
    CreateWebHook: 'Console.WriteLine("Webhook " + answer.result.id + " created, signing secret " + answer.result.secret);',
    GetWebHooks: 'foreach (WebHook webhook in answer.result ?? new WebHook[0])\n        {\n            Console.WriteLine(webhook.id + " " + webhook.app + " " + webhook.@event + " " + webhook.url + " " + (webhook.active ? "active" : "deactivated"));\n        }',
    ActivateWebHook: 'Console.WriteLine("Webhook " + answer.result.id + " is active, " + answer.result.replayedEvents + " buffered events queued");',
    DeleteWebHookById: 'Console.WriteLine("Webhook deleted");',
    TestWebHook: 'Console.WriteLine(answer.result.succeeded ? "Test passed: HTTP " + answer.result.statusCode + " in " + answer.result.durationMs + " ms" : "Test failed (" + answer.result.failureClass + "): " + answer.result.error);',
    GetWebHookDeliveries: 'foreach (Delivery delivery in answer.result ?? new Delivery[0])\n        {\n            Console.WriteLine(delivery.messageId + " " + delivery.@event + " " + delivery.occurredAt.ToString("o") + " " + delivery.status + ", " + delivery.attempts + " attempts");\n        }',
    RotateWebHookSecret: 'Console.WriteLine("Webhook " + answer.result.id + ": new signing secret " + answer.result.secret);',
    ResendWebHookDelivery: 'Console.WriteLine(answer.result.messageId + " is " + answer.result.status + " again, sent after the waiting events of its subscriber");',
    RecoverWebHookDeliveries: 'Console.WriteLine(answer.result.scheduled + " deliveries scheduled again");',
    GetPortalLink: 'Console.WriteLine("Open within the hour, once: " + answer.result);',
    UpdateWebHook: 'Console.WriteLine("Webhook " + answer.result.id + " now sends to " + answer.result.url);',
    GetWebHookDeliveryAttempts: 'foreach (Attempt attempt in answer.result ?? new Attempt[0])\n        {\n            Console.WriteLine(attempt.attemptedAt.ToString("o") + " " + (attempt.statusCodeSpecified ? attempt.statusCode.ToString() : "-") + " " + attempt.durationMs + " ms " + (attempt.error ?? "ok"));\n            Console.WriteLine(attempt.response ?? "");\n        }',
  }[call.fn];
  return `// ${call.fn} through a proxy generated from the WSDL (.NET Framework or Mono):
//   wsdl /out:WebHookService.cs ${call.endpoint}?wsdl
//   csc Program.cs WebHookService.cs        (Mono: mcs Program.cs WebHookService.cs -r:System.Web.Services)
using System;

class Program
{
    static int Main()
    {
        var service = new WebHookService();
        service.Url = ${csharpQuoted(call.endpoint)};
        ${call.fn}Result answer = service.${call.fn}(${args.join(', ')});
        if (answer.error != 0)
        {
            Console.Error.WriteLine("${call.fn} failed with error " + answer.error + ": " + answer.message);
            return 1;
        }
        ${result}
        return 0;
    }
}
`;
}

function python(call: SampleCall, values: Array<[string, Value]>): string {
  return `# ${call.fn} through zeep (pip install zeep)
import sys
from zeep import Client

client = Client(${quoted(`${call.endpoint}?wsdl`)})
answer = client.service.${call.fn}(
${values.map(([name, value]) => `    ${name}=${literal(value, 'python')},`).join('\n')}
)
if answer.error != 0:
    sys.exit("${call.fn} failed with error %d: %s" % (answer.error, answer.message))
print(answer.result)
`;
}

function javascript(call: SampleCall, values: Array<[string, Value]>): string {
  return `// ${call.fn} through the soap package (npm install soap)
const soap = require('soap');

async function main() {
  const client = await soap.createClientAsync(${quoted(`${call.endpoint}?wsdl`)});
  const [response] = await client.${call.fn}Async({
${values.map(([name, value]) => `    ${name}: ${literal(value, 'javascript')},`).join('\n')}
  });
  const answer = response.${call.fn}Result;
  if (answer.error !== 0) {
    console.error(\`${call.fn} failed with error \${answer.error}: \${answer.message}\`);
    process.exit(1);
  }
  console.log(JSON.stringify(answer.result, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
}

function curl(call: SampleCall, values: Array<[string, Value]>): string {
  return `# ${call.fn} as a raw SOAP 1.1 envelope; the answer's <error> is 0 on success.
curl -sS ${shellQuoted(call.endpoint)} \\
  -H 'Content-Type: text/xml; charset=utf-8' \\
  -H 'SOAPAction: "${serviceNamespace}#${call.fn}"' \\
  --data-binary @- <<'ENVELOPE'
${requestEnvelope(call.fn, values)}
ENVELOPE
`;
}

/** Code that runs as it is, with every value escaped for its language. */
export function sampleCode(language: SampleLanguage, call: SampleCall): string {
  const values = presentValues(call);
  switch (language) {
    case 'php':
      return php(call, values);
    case 'csharp':
      return csharp(call, values);
    case 'python':
      return python(call, values);
    case 'javascript':
      return javascript(call, values);
    case 'curl':
      return curl(call, values);
  }
}
