import { expect } from 'chai';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

const envelope = (body: string, ns = 'http://schemas.xmlsoap.org/soap/envelope/') =>
  `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${ns}"><s:Body>${body}</s:Body></s:Envelope>`;

describe('SOAP requests that are not calls of ours', () => {
  let service: RunningService;
  let account: TestAccount;

  before(async () => {
    service = await startService();
    account = await makeAccount(service);
  });
  after(() => service.stop());

  async function post(body: string, contentType = 'text/xml; charset=utf-8') {
    const started = Date.now();
    const response = await fetch(`${service.baseUrl}/soap`, { method: 'POST', headers: { 'content-type': contentType }, body });
    // Compared as text: the entities the answer escapes with are turned back.
    const text = (await response.text()).replace(/&apos;/g, "'").replace(/&quot;/g, '"');
    return { status: response.status, text, ms: Date.now() - started };
  }

  async function webhookCount(): Promise<number> {
    const [rows] = await service.app.pool.query<any[]>('select count(*) as n from webhooks');
    return Number(rows[0].n);
  }

  async function expectStillServing() {
    const answer = await post(envelope(`<GetWebHooks xmlns="urn:newsletter-webhooks"><username>${account.username}</username><password>${account.password}</password></GetWebHooks>`));
    expect(answer.text).to.contain('<error>0</error>');
  }

  const faults: Array<[string, string, RegExp, number]> = [
    ['an empty body', '', /soap:Client.*empty/, 500],
    ['text that is not XML', 'hello, is this the webservice?', /soap:Client.*not well-formed/, 500],
    ['XML that is not an envelope', '<GetWebHooks xmlns="urn:newsletter-webhooks"/>', /soap:Client.*Envelope/, 500],
    ['an envelope without a body', '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', /soap:Client.*no Body/, 500],
    ['an unknown function', envelope('<DropAllTables xmlns="urn:newsletter-webhooks"/>'), /soap:Client.*unknown function 'DropAllTables'/, 500],
    ['a function in another namespace', envelope('<GetWebHooks xmlns="urn:someone-else"/>'), /soap:Client.*unknown function/, 500],
    ['a SOAP 1.2 envelope', envelope('<GetWebHooks xmlns="urn:newsletter-webhooks"/>', 'http://www.w3.org/2003/05/soap-envelope'), /soap:VersionMismatch/, 500],
    [
      'a DOCTYPE with an external entity',
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
        envelope('<GetWebHooks xmlns="urn:newsletter-webhooks"><username>&xxe;</username></GetWebHooks>').replace(/^<\?xml[^>]*>/, ''),
      /soap:Client.*document type declarations/, 500,
    ],
    [
      'an entity-expansion bomb',
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
        `<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>` +
        envelope('<GetWebHooks xmlns="urn:newsletter-webhooks"><username>&lol4;</username></GetWebHooks>').replace(/^<\?xml[^>]*>/, ''),
      /soap:Client.*document type declarations/, 500,
    ],
    // The default limit for webservice calls is 64 KiB (intake's is 1 MiB): a bigger envelope is refused before it is parsed.
    ['a body over the size limit', envelope(`<GetWebHooks xmlns="urn:newsletter-webhooks"><app>${'x'.repeat(100_000)}</app></GetWebHooks>`), /soap:Client.*larger than 65536 bytes/, 413],
  ];

  for (const [what, body, expected, status] of faults) {
    it(`answers ${what} with a SOAP Fault, stores nothing and keeps serving`, async () => {
      const before = await webhookCount();
      const answer = await post(body);
      expect(answer.status).to.equal(status);
      expect(answer.text).to.match(/^<\?xml version="1.0" encoding="utf-8"\?><soap:Envelope xmlns:soap="http:\/\/schemas.xmlsoap.org\/soap\/envelope\/"/);
      expect(answer.text).to.match(expected);
      expect(answer.text).not.to.match(/at .*\.(ts|js):\d+/); // no stack trace
      expect(answer.text).not.to.contain('root:');
      expect(answer.ms).to.be.below(5000);
      expect(await webhookCount()).to.equal(before);
      await expectStillServing();
    });
  }

  it('refuses an id that is not a whole number with error 3 instead of reading its digits', async () => {
    const create = await post(envelope(`<CreateWebHook xmlns="urn:newsletter-webhooks"><username>${account.username}</username><password>${account.password}</password><app>a</app><event>optin_finalized</event><url>https://a.example.com/</url></CreateWebHook>`));
    const id = /<id>(\d+)<\/id>/.exec(create.text)![1];
    for (const bad of [`${id}x`, `${id}.0`, '-1', '', '99999999999', ' ']) {
      const answer = await post(envelope(`<DeleteWebHookById xmlns="urn:newsletter-webhooks"><username>${account.username}</username><password>${account.password}</password><id>${bad}</id></DeleteWebHookById>`));
      expect(answer.status).to.equal(200);
      expect(answer.text, bad).to.match(bad.trim() === '' ? /<error>2<\/error>.*'id'/ : /<error>3<\/error><message>parameter 'id' must be a positive integer<\/message>/);
    }
    expect(await webhookCount()).to.be.above(0);
  });

  it('reads PHP-style prefixed elements, xsi:nil and CDATA', async () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:newsletter-webhooks" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <SOAP-ENV:Body>
    <ns1:GetWebHooks>
      <ns1:username><![CDATA[${account.username}]]></ns1:username>
      <ns1:password>${account.password}</ns1:password>
      <ns1:app xsi:nil="true"/>
    </ns1:GetWebHooks>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;
    const answer = await post(body);
    expect(answer.text).to.contain('<error>0</error>');
  });

  it('decodes character references in parameters like any XML text', async () => {
    const encoded = [...account.username].map((c) => `&#${c.codePointAt(0)};`).join('');
    const hex = [...account.password].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join('');
    const answer = await post(envelope(`<GetWebHooks xmlns="urn:newsletter-webhooks"><username>${encoded}</username><password>${hex}</password></GetWebHooks>`));
    expect(answer.text).to.contain('<error>0</error>');
    const undefinedEntity = await post(envelope(`<GetWebHooks xmlns="urn:newsletter-webhooks"><username>&nbsp;</username><password>x</password></GetWebHooks>`));
    expect(undefinedEntity.text).to.match(/soap:Client.*not well-formed/);
  });

  it('answers a repeated parameter with error 3', async () => {
    const answer = await post(envelope(`<GetWebHooks xmlns="urn:newsletter-webhooks"><username>${account.username}</username><username>other</username><password>x</password></GetWebHooks>`));
    expect(answer.text).to.match(/<error>3<\/error><message>parameter 'username' must be a single value/);
  });

  it('serves the WSDL with the address from PUBLIC_URL', async () => {
    const response = await fetch(`${service.baseUrl}/soap?wsdl`);
    expect(response.headers.get('content-type')).to.contain('text/xml');
    const text = await response.text();
    expect(text).to.contain(`<soap:address location="${service.baseUrl}/soap"/>`);
  });
});
