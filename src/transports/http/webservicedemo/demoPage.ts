import express, { type Request, type Response, type Router } from 'express';
import { XMLParser } from 'fast-xml-parser';
import type { Logger } from '../../../logger.js';
import { deliveryStatuses } from '../../../domain/delivery.js';
import { functionNames, isFunctionName, type FunctionName, type Webservice } from '../../../services/webservice.js';
import { processSoapRequest } from '../../soap/soapEndpoint.js';
import { eventNames } from '../../../domain/webhook.js';
import { maskHeaderLines, passwordPlaceholder, requestEnvelopeFor, sampleCode, sampleLanguages, type SampleCall, type SampleLanguage } from './sampleCode.js';
import { readFunctionDocs, type FunctionDoc } from './wsdlCatalog.js';
import { demoScript } from './demoScript.js';
import { escapeHtml, setPageSecurityHeaders } from '../../html.js';
import { inLanguage, languageOf, type Language } from '../../i18n.js';
import type { Observer } from '../../../services/observer.js';
import { requestLog } from '../requestLog.js';

const maxValueLength = 10_000;
const languageNames: Record<Language, string> = { en: 'English', de: 'Deutsch' };

const texts = {
  title: { en: 'Webservicedemo: webhooks', de: 'Webservicedemo: Webhooks' },
  intro: {
    en: 'Pick a function, fill in its parameters, run it against the live webservice and copy the generated sample code into your script.',
    de: 'Wählen Sie eine Funktion, füllen Sie die Parameter aus, führen Sie sie gegen den Live-Webservice aus und kopieren Sie den erzeugten Beispielcode in Ihr Script.',
  },
  functions: { en: 'Functions', de: 'Funktionen' },
  allFunctions: { en: 'All functions ↓', de: 'Alle Funktionen ↓' },
  parameters: { en: 'Parameters', de: 'Parameter' },
  optional: { en: 'optional', de: 'optional' },
  required: { en: 'required', de: 'Pflicht' },
  noFilter: { en: '(no filter)', de: '(kein Filter)' },
  includePassword: { en: 'Include my password in the sample code', de: 'Mein Passwort in den Beispielcode übernehmen' },
  run: { en: 'Run', de: 'Ausführen' },
  showCode: { en: 'Show sample code', de: 'Beispielcode zeigen' },
  request: { en: 'Request', de: 'Anfrage' },
  response: { en: 'Response', de: 'Antwort' },
  result: { en: 'Result', de: 'Ergebnis' },
  errorCode: { en: 'Error code', de: 'Fehlercode' },
  message: { en: 'Message', de: 'Meldung des Webservice (englisch)' },
  sampleCode: { en: 'Sample code', de: 'Beispielcode' },
  copy: { en: 'Copy', de: 'Kopieren' },
  copied: { en: 'Copied', de: 'Kopiert' },
  passwordMasked: { en: 'The password is masked here.', de: 'Das Passwort ist hier maskiert.' },
  valueTooLong: {
    en: (name: string) => `${name} is longer than ${maxValueLength} characters.`,
    de: (name: string) => `${name} ist länger als ${maxValueLength} Zeichen.`,
  },
  sampleNames: {
    en: { php: 'PHP (SoapClient)', csharp: 'C# (.NET proxy)', python: 'Python (zeep)', javascript: 'JavaScript (soap)', curl: 'curl (raw SOAP)' },
    de: { php: 'PHP (SoapClient)', csharp: 'C# (.NET-Proxy)', python: 'Python (zeep)', javascript: 'JavaScript (soap)', curl: 'curl (SOAP direkt)' },
  },
  errors: {
    en: {
      0: 'success', 1: 'authentication failed: wrong username or password', 2: 'a required parameter is missing or empty',
      3: 'a parameter has an invalid value', 4: 'no webhook with this id in this account', 5: 'the URL is not allowed as a target',
      6: 'a limit is reached (webhooks per account, request rate)', 99: 'internal error: please try again later',
    } as Record<number, string>,
    de: {
      0: 'Erfolg', 1: 'Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch', 2: 'ein Pflichtparameter fehlt oder ist leer',
      3: 'ein Parameter hat einen ungültigen Wert', 4: 'kein Webhook mit dieser id in diesem Konto', 5: 'die URL ist als Ziel nicht erlaubt',
      6: 'ein Limit ist erreicht (Webhooks pro Konto, Anfragerate)', 99: 'interner Fehler: bitte später erneut versuchen',
    } as Record<number, string>,
  },
};

/** Indents an XML document whose text sits inside leaf elements (our envelopes). */
export function prettyXml(xml: string): string {
  const tokens = xml.replace(/>\s*</g, '><').match(/<\?[^>]*\?>|<\/[^>]+>|<[^>]+\/>|<[^>]+>[^<]*<\/[^>]+>|<[^>]+>/g) ?? [xml];
  let depth = 0;
  return tokens
    .map((token) => {
      if (token.startsWith('</')) depth -= 1;
      const line = `${'  '.repeat(Math.max(depth, 0))}${token}`;
      if (!token.startsWith('<?') && !token.startsWith('</') && !token.endsWith('/>') && !/<\/[^>]+>$/.test(token)) depth += 1;
      return line;
    })
    .join('\n');
}

interface Run {
  request: string;
  response: string;
  /** undefined for a SOAP Fault */
  error: number | undefined;
  message: string;
  result: unknown;
}

const answerParser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, ignoreAttributes: true, processEntities: true, htmlEntities: false });

/** A SOAP Fault's text (the request was no call of ours). */
function faultOf(xml: string): Pick<Run, 'error' | 'message' | 'result'> {
  const body = (answerParser.parse(xml) as { Envelope?: { Body?: Record<string, any> } }).Envelope?.Body ?? {};
  return { error: undefined, message: String(body.Fault?.faultstring ?? ''), result: undefined };
}

/**
 * GET /webservicedemo: the functions with their WSDL documentation, a form
 * each, and sample code; POST runs the call through the same code as POST /soap.
 * Everything works without JavaScript; the script only adds copy buttons.
 */
export function webservicedemo(webservice: Webservice, log: Logger, observer: Observer, options: { wsdl: string; publicUrl: string }): Router {
  const router = express.Router();
  const docs = readFunctionDocs(options.wsdl);
  const endpoint = `${options.publicUrl}/soap`;

  router.get('/webservicedemo/demo.js', (_req, res) => {
    res.type('application/javascript').set('cache-control', 'public, max-age=3600').send(demoScript);
  });

  router.get('/webservicedemo', (req: Request, res: Response) => {
    const fn = typeof req.query.fn === 'string' && isFunctionName(req.query.fn) ? req.query.fn : 'CreateWebHook';
    setPageSecurityHeaders(res, { ownScripts: true });
    res.type('html').send(render(languageOf(req.query.lang), fn, {}, false, undefined, []));
  });

  router.post('/webservicedemo', express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 }), async (req: Request, res: Response) => {
    setPageSecurityHeaders(res, { ownScripts: true });
    const language = languageOf(req.body?.lang);
    const fn = String(req.body?.fn ?? '');
    if (!isFunctionName(fn)) {
      res.status(400).type('text/plain').send(`unknown function; the functions are ${functionNames.join(', ')}\n`);
      return;
    }
    const doc = docs.find((d) => d.name === fn)!;
    const values: Record<string, string | undefined> = {};
    const problems: string[] = [];
    for (const parameter of doc.parameters) {
      const raw = req.body?.[parameter.name];
      const value = typeof raw === 'string' ? raw : undefined;
      if (value !== undefined && value.length > maxValueLength) problems.push(inLanguage(texts, language).valueTooLong(parameter.name));
      else values[parameter.name] = value;
    }
    let run: Run | undefined;
    if (req.body?.action === 'run' && problems.length === 0) {
      const call: SampleCall = { fn, endpoint, parameters: doc.parameters, values };
      const request = requestEnvelopeFor(call);
      const answer = await processSoapRequest(webservice, requestLog(res, log), observer, request, { address: req.ip });
      // The answer's values with the types the JSON transport gives them (and PHP's SoapClient): numbers, booleans, lists.
      const decoded = answer.answer ? { error: answer.answer.error, message: answer.answer.message, result: answer.answer.result } : faultOf(answer.xml);
      run = {
        request: requestEnvelopeFor({ ...call, values: { ...values, password: values.password ? '********' : values.password, headers: maskHeaderLines(values.headers) } }),
        response: prettyXml(answer.xml),
        ...decoded,
      };
    }
    res.status(problems.length ? 422 : 200).type('html').send(render(language, fn, values, req.body?.includePassword === '1', run, problems));
  });

  function render(
    language: Language,
    fn: FunctionName,
    values: Record<string, string | undefined>,
    includePassword: boolean,
    run: Run | undefined,
    problems: string[],
  ): string {
    const t = inLanguage(texts, language);
    const e = escapeHtml;
    const doc = docs.find((d) => d.name === fn)!;
    const other: Language = language === 'de' ? 'en' : 'de';
    const nav = docs
      .map((d) => `<li><a href="/webservicedemo?fn=${d.name}&amp;lang=${language}"${d.name === fn ? ' aria-current="page"' : ''}>${d.name}</a><br><small>${e(firstSentence(d.doc[language]))}</small></li>`)
      .join('');
    const fields = doc.parameters.map((parameter) => field(parameter, values[parameter.name], language)).join('\n');
    const sampleValues = { ...values, password: includePassword ? values.password : passwordPlaceholder };
    const call: SampleCall = { fn, endpoint, parameters: doc.parameters, values: sampleValues };
    const samples = sampleLanguages
      .map((sample: SampleLanguage) => `<section class="sample" aria-labelledby="h-${sample}">
<h3 id="h-${sample}">${e(t.sampleNames[sample])} <button type="button" class="copy" data-copy="code-${sample}" data-copied="${e(t.copied)}" hidden>${e(t.copy)}</button></h3>
<pre id="code-${sample}" tabindex="0"><code>${e(sampleCode(sample, call))}</code></pre>
</section>`)
      .join('\n');
    const result = run
      ? `<section aria-labelledby="h-result" id="result">
<h2 id="h-result">${e(t.result)}</h2>
<p class="${run.error === 0 ? 'ok' : 'bad'}"><strong>${e(t.errorCode)}: ${run.error ?? 'SOAP Fault'}</strong> — ${e(run.error === undefined ? run.message : (t.errors[run.error] ?? ''))}${run.message && run.error !== undefined && !saysOnlyTheCode(run.error, run.message) ? `<br>${e(t.message)}: ${e(run.message)}` : ''}</p>
${run.result !== undefined && run.result !== '' ? `<pre tabindex="0" id="decoded"><code>${e(JSON.stringify(run.result, null, 2))}</code></pre>` : ''}
<h3>${e(t.request)}</h3><p><small>${e(t.passwordMasked)}</small></p><pre tabindex="0"><code>${e(run.request)}</code></pre>
<h3>${e(t.response)}</h3><pre tabindex="0" id="response"><code>${e(run.response)}</code></pre>
</section>`
      : '';
    return `<!DOCTYPE html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(t.title)}</title>
<style>
body{margin:0;font-family:Arial,Helvetica,sans-serif;color:#222;line-height:1.5;background:#f6f6f6}
header{background:#1a5fb4;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}
.layout{display:grid;grid-template-columns:260px 1fr;gap:24px;max-width:1200px;margin:0 auto;padding:24px}
nav ul{list-style:none;padding:0;margin:0}nav li{margin:0 0 12px}nav a{font-weight:bold}nav a[aria-current]{color:#c01c28}
main{background:#fff;border-radius:6px;padding:20px 28px;min-width:0}
.field{margin:0 0 14px}.field label{display:block;font-weight:bold}.field small{display:block;color:#555}
input[type=text],input[type=url],input[type=password],input[type=number],select{width:100%;max-width:520px;padding:6px;font-size:15px;box-sizing:border-box}
button{background:#1a5fb4;color:#fff;border:0;border-radius:4px;padding:8px 16px;font-size:15px;cursor:pointer;margin-right:8px}
button.secondary{background:#fff;color:#1a5fb4;border:1px solid #1a5fb4}
button.copy{font-size:13px;padding:2px 10px;margin-left:8px}
:focus-visible{outline:3px solid #99c1f1;outline-offset:2px}
pre{background:#1e1e1e;color:#f0f0f0;padding:12px;border-radius:4px;overflow:auto;font-size:13px}
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:8px 12px}.bad{background:#fdecea;border-left:4px solid #c01c28;padding:8px 12px}
.problems{color:#c01c28}
a.to-functions{display:none}
@media (max-width:800px){.layout{display:flex;flex-direction:column;padding:12px}nav{order:2}main{padding:16px}header{padding:12px 16px}a.to-functions{display:inline}}
</style>
<script src="/webservicedemo/demo.js" defer></script>
</head><body>
<header><h1 style="margin:0;font-size:22px">${e(t.title)}</h1>
<a href="/webservicedemo?fn=${fn}&amp;lang=${other}" lang="${other}" hreflang="${other}">${languageNames[other]}</a></header>
<div class="layout">
<nav aria-label="${e(t.functions)}" id="functions"><h2>${e(t.functions)}</h2><ul>${nav}</ul></nav>
<main>
<p>${e(t.intro)} <a class="to-functions" href="#functions">${e(t.allFunctions)}</a></p>
<h2>${fn}</h2>
<p>${e(doc.doc[language])}</p>
${problems.length ? `<ul class="problems" role="alert">${problems.map((p) => `<li>${e(p)}</li>`).join('')}</ul>` : ''}
<form method="post" action="/webservicedemo#result">
<input type="hidden" name="fn" value="${fn}"><input type="hidden" name="lang" value="${language}">
<fieldset style="border:0;padding:0"><legend><strong>${e(t.parameters)}</strong></legend>
${fields}
</fieldset>
<div class="field"><label style="font-weight:normal"><input type="checkbox" name="includePassword" value="1"${includePassword ? ' checked' : ''}> ${e(t.includePassword)}</label></div>
<button type="submit" name="action" value="run">${e(t.run)}</button><button type="submit" name="action" value="code" class="secondary">${e(t.showCode)}</button>
</form>
${result}
<h2>${e(t.sampleCode)}</h2>
${samples}
</main></div>
</body></html>`;
  }

  return router;
}

// The webservice's messages that say no more than their code: the page's own text of the code says it in the page's language.
const codeOnlyMessages: Record<number, string> = { 1: 'authentication failed', 4: 'no webhook with this id', 99: 'internal error' };
const saysOnlyTheCode = (code: number, message: string) => codeOnlyMessages[code] === message;

function firstSentence(text: string): string {
  const end = text.indexOf('. ');
  return end < 0 ? text : text.slice(0, end + 1);
}

/** The right input for each parameter, labelled and described for screen readers. */
function field(parameter: FunctionDoc['parameters'][number], value: string | undefined, language: Language): string {
  const t = inLanguage(texts, language);
  const id = `p-${parameter.name}`;
  const described = `aria-describedby="${id}-hint"`;
  const required = parameter.optional ? '' : ' required';
  const label = `<label for="${id}">${parameter.name} <small style="display:inline;font-weight:normal">(${parameter.optional ? t.optional : t.required})</small></label>`;
  const hint = `<small id="${id}-hint">${escapeHtml(parameter.doc[language])}</small>`;
  const v = escapeHtml(value ?? '');
  let input: string;
  const choices = parameter.name === 'event' ? eventNames : parameter.name === 'status' ? deliveryStatuses : undefined;
  if (choices) {
    const options = (parameter.optional ? [['', t.noFilter]] : []).concat(choices.map((name) => [name, name]));
    input = `<select id="${id}" name="${parameter.name}" ${described}${required}>${options.map(([val, text]) => `<option value="${val}"${val === (value ?? '') ? ' selected' : ''}>${escapeHtml(text!)}</option>`).join('')}</select>`;
  } else if (parameter.type === 'boolean') {
    return `<div class="field"><label for="${id}"><input type="checkbox" id="${id}" name="${parameter.name}" value="1" ${described}${value === '1' ? ' checked' : ''}> ${parameter.name} (${t.optional})</label>${hint}</div>`;
  } else if (parameter.type === 'int') {
    // An id starts at 1; the optional numbers (limit, keepOldMinutes) say their bounds in their documentation.
    input = `<input type="number" id="${id}" name="${parameter.name}" min="${parameter.optional ? 0 : 1}" step="1" inputmode="numeric" value="${v}" ${described}${required}>`;
  } else if (parameter.type === 'headers') {
    // One header a line; a name alone keeps its stored value (UpdateWebHook).
    input = `<textarea id="${id}" name="${parameter.name}" rows="3" spellcheck="false" placeholder="Authorization: Bearer …" ${described}>${v}</textarea>`;
  } else if (parameter.name === 'password') {
    // Never written back into the page: the user (or the browser's password manager) fills it in again.
    input = `<input type="password" id="${id}" name="password" autocomplete="current-password" ${described}${required}>`;
  } else if (parameter.name === 'url') {
    input = `<input type="url" id="${id}" name="url" maxlength="2048" placeholder="https://" value="${v}" ${described}${required}>`;
  } else {
    const extra = parameter.name === 'username' ? ' autocomplete="username"' : parameter.name === 'app' ? ' maxlength="255"' : '';
    input = `<input type="text" id="${id}" name="${parameter.name}"${extra} value="${v}" ${described}${required}>`;
  }
  return `<div class="field">${label}${input}${hint}</div>`;
}
