import { expect } from 'chai';
import { Pool } from 'undici';
import { seeded as random } from './helpers/seeded.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

const pieces = ['<', '>', '</', '/>', '&', '&amp;', '&#0;', '&#x110000;', '&#98;', '&lt', ']]>', '<![CDATA[', '<!--', '-->', '<?xml ?>', '"', "'", '=', ':', 'xmlns=""',
  'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"', 'xsi:nil="true"', '<s:Body>', '</s:Body>', '<id>', '</id>', '\u0000', '\u0085', '\u2028', '\ufffe', '\ud800',
  'ä€😀', ' ', '\n', '<!DOCTYPE x>', '<a><a><a><a>', '</a></a></a></a>', '<a>'.repeat(40), '<a>'.repeat(5000), '<x/>'.repeat(2500), '9999999999999', '-1', 'true', 'optin_finalized', 'https://x.example.com/'];

const values = ['', ' ', '0', '1', '-1', '12x', '2147483648', 'true', 'yes', 'optin_finalized', 'OPTIN_FINALIZED', 'https://hooks.example.com/a?b=c&amp;d',
  'http://127.0.0.1/', 'javascript:alert(1)', '&#98;&#x62;', '&lt;b&gt;', 'ä€😀', 'x'.repeat(300), '\u0085\u2028', '&amp;amp;', '<![CDATA[<x>]]>', '<nested>1</nested>'];

/** Garbles parameter values only: the envelope stays well-formed, so the webservice's own checks are what answers. */
function mutateValues(seed: string, next: () => number): string {
  return seed.replace(/<(username|password|app|event|url|id|replayEvents)>([^<]*)<\/\1>/g, (whole, name: string) =>
    next() < 0.5 ? whole : next() < 0.1 ? '' : `<${name}>${values[Math.floor(next() * values.length)]!}</${name}>`);
}

function mutate(seed: string, next: () => number): string {
  let text = seed;
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i += 1) {
    const at = Math.floor(next() * (text.length + 1));
    const kind = next();
    if (kind < 0.3) text = text.slice(0, at) + pieces[Math.floor(next() * pieces.length)]! + text.slice(at);
    else if (kind < 0.55) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 20));
    else if (kind < 0.7) text = text.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + text.slice(at + 1);
    else if (kind < 0.8) text = text.slice(0, at);
    else if (kind < 0.9) text = text.slice(0, at) + text.slice(Math.floor(next() * text.length)).slice(0, 200) + text.slice(at);
    else text = text.replace(/(<\/?)([A-Za-z:]+)/, (_m, open: string, name: string) => `${open}${name.split('').reverse().join('')}`);
  }
  return text;
}

describe('mutated SOAP envelopes (fuzzing)', function () {
  this.timeout(120_000);
  let service: RunningService;
  let account: TestAccount;

  before(async () => {
    service = await startService({ MAX_WEBHOOKS_PER_ACCOUNT: '5' });
    account = await makeAccount(service);
  });
  after(() => service.stop());

  it('answers each of 3,000 with a SOAP Fault or a result, never a stack trace, and keeps serving', async () => {
    const call = (fn: string, params: string) =>
      `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<s:Header/><s:Body><${fn} xmlns="urn:newsletter-webhooks"><username>${account.username}</username><password>${account.password}</password>${params}</${fn}></s:Body></s:Envelope>`;
    const seeds = [
      call('GetWebHooks', '<app>crm</app><event>optin_finalized</event>'),
      call('CreateWebHook', '<app>fuzz</app><event>optin_finalized</event><url>https://hooks.example.com/fuzz</url>'),
      call('ActivateWebHook', '<id>1</id><replayEvents>true</replayEvents>'),
      call('DeleteWebHookById', '<id>1</id>'),
    ];
    const next = random(20261128);
    const pool = new Pool(service.baseUrl, { connections: 16 });
    const problems: string[] = [];
    let faults = 0;
    let results = 0;
    try {
      const envelopes = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? mutateValues : mutate)(seeds[i % seeds.length]!, next));
      let index = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (index < envelopes.length) {
          const envelope = envelopes[index++]!;
          const response = await pool.request({ method: 'POST', path: '/soap', body: envelope, headers: { 'content-type': 'text/xml; charset=utf-8' } });
          const text = await response.body.text();
          const fault = response.statusCode === 500 && text.includes('<soap:Fault><faultcode>soap:Client</faultcode>');
          const result = response.statusCode === 200 && /Result><error>\d+<\/error><message>/.test(text);
          if (fault) faults += 1;
          if (result) results += 1;
          if (!(fault || result) || /at .*\.(ts|js):\d+|Error:|internal error/.test(text)) problems.push(`${response.statusCode} ${text.slice(0, 300)} <- ${JSON.stringify(envelope).slice(0, 300)}`);
        }
      }));
    } finally {
      await pool.close();
    }
    expect(problems, problems.slice(0, 3).join('\n')).to.deep.equal([]);
    expect(faults, 'faults').to.be.above(500);
    expect(results, 'answers').to.be.above(200);
    const health = await fetch(`${service.baseUrl}/healthz`);
    expect(await health.text()).to.equal('ok\n');
  });
});
