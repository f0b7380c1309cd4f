import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { jsonClient } from './helpers/clients.js';
import { makeAccount, startService, type RunningService, type TestAccount } from './helpers/service.js';

const run = promisify(execFile);
// Everything a language's string syntax treats specially; control characters and line separators a name may not have at all.
const nastyName = `Shop "Süd" 'Ost' $HOME \\ \\n <b> & {$x} \${y} \`z\` ä€ end`;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function execute(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 60_000, cwd: options.cwd, env: { ...process.env, ...options.env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const unescapeHtml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('the Webservicedemo', function () {
  this.timeout(120_000);
  let service: RunningService;
  let account: TestAccount;
  const work = mkdtempSync(path.join(tmpdir(), 'demo-code-'));

  before(async () => {
    // TestWebHook's request to hooks.example.com fails fast: the answer, not the target, is what the samples show.
    service = await startService({ DELIVERY_TIMEOUT_MS: '2000' });
    account = await makeAccount(service);
  });
  after(() => service.stop());

  /** The sample code the page generates for a filled-in form. */
  async function generated(fn: string, values: Record<string, string>, language: string): Promise<string> {
    const response = await fetch(`${service.baseUrl}/webservicedemo`, {
      method: 'POST',
      body: new URLSearchParams({ fn, lang: 'en', action: 'code', includePassword: '1', username: account.username, password: account.password, ...values }),
    });
    const html = await response.text();
    const match = new RegExp(`<pre id="code-${language}" tabindex="0"><code>([\\s\\S]*?)</code></pre>`).exec(html);
    if (!match) throw new Error(`no ${language} code on the page`);
    return unescapeHtml(match[1]!);
  }

  async function storedApps(): Promise<string[]> {
    const answer = await jsonClient(service.baseUrl).call('GetWebHooks', { username: account.username, password: account.password });
    return answer.result.map((w: { app: string }) => w.app);
  }

  async function idOf(app: string): Promise<string> {
    const answer = await jsonClient(service.baseUrl).call('GetWebHooks', { username: account.username, password: account.password, app });
    return String(answer.result[0].id);
  }

  // How each language's code is run here; every one gets the code exactly as the page shows it.
  const runners: Record<string, (code: string, name: string) => Promise<Ran>> = {
    php: (code, name) => {
      const file = path.join(work, `${name}.php`);
      writeFileSync(file, code);
      return execute('php', ['-d', 'soap.wsdl_cache_enabled=0', file]);
    },
    javascript: (code, name) => {
      const file = path.join(work, `${name}.cjs`);
      writeFileSync(file, code);
      return execute(process.execPath, [file], { env: { NODE_PATH: path.resolve('node_modules') } });
    },
    curl: (code, name) => {
      const file = path.join(work, `${name}.sh`);
      writeFileSync(file, code);
      return execute('bash', [file]);
    },
    python: (code, name) => {
      const file = path.join(work, `${name}.py`);
      writeFileSync(file, code);
      return execute('/usr/bin/python3', [file]);
    },
    csharp: (code, name) => runCsharp(code, `${service.baseUrl}/soap?wsdl`, name),
  };

  /**
   * A C# program against a proxy made from a WSDL (a URL or a file), with
   * the commands the sample's own comment gives; the first step that fails
   * answers for all.
   */
  async function runCsharp(program: string, wsdl: string, name: string): Promise<Ran> {
    const directory = mkdtempSync(path.join(work, `${name}-`));
    writeFileSync(path.join(directory, 'Program.cs'), program);
    const proxy = await execute('wsdl', ['-nologo', '-out:WebHookService.cs', wsdl], { cwd: directory });
    if (proxy.code !== 0) return proxy;
    const compiled = await execute('mcs', ['-nologo', 'Program.cs', 'WebHookService.cs', '-r:System.Web.Services', '-out:Program.exe'], { cwd: directory });
    if (compiled.code !== 0) return compiled;
    return execute('mono', ['Program.exe'], { cwd: directory });
  }

  for (const language of ['php', 'javascript', 'curl', 'python', 'csharp']) {
    it(`generates ${language} code for every function that runs as it is and sends exactly what was typed`, async () => {
      const app = `${nastyName} (${language})`;
      const ok = (ran: Ran) => {
        expect(ran.code, `${ran.stdout}\n${ran.stderr}`).to.equal(0);
        if (language === 'curl') expect(ran.stdout).to.contain('<error>0</error>');
      };
      ok(await runners[language]!(await generated('CreateWebHook', { app, event: 'optin_finalized', url: 'https://hooks.example.com/in?a=1&b=2', maxPerSecond: '20' }, language), 'create'));
      expect(await storedApps()).to.include(app);
      const id = await idOf(app);
      const [[{ throttle }]] = await service.app.pool.query<any[]>('select max_per_second as throttle from webhooks where id = ?', [id]);
      expect(throttle, 'maxPerSecond as typed').to.equal(20);

      const listed = await runners[language]!(await generated('GetWebHooks', { app, event: '' }, language), 'get');
      ok(listed);
      if (language !== 'curl') expect(listed.stdout).to.contain(id);

      ok(await runners[language]!(await generated('ActivateWebHook', { id, replayEvents: '1' }, language), 'activate'));

      const tested = await runners[language]!(await generated('TestWebHook', { id }, language), 'test');
      ok(tested);
      if (language !== 'curl') expect(tested.stdout).to.match(/^Test (passed|failed)|succeeded/m);
      const deliveries = await runners[language]!(await generated('GetWebHookDeliveries', { id, limit: '10', status: '' }, language), 'deliveries');
      ok(deliveries);
      const filtered = await runners[language]!(await generated('GetWebHookDeliveries', { id, limit: '', status: 'delivered' }, language), 'delivered');
      ok(filtered);

      // A delivery that went out, to resend and to look at: its receiver is on the internet, so it is marked done here.
      await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', subscriber: language, payload: { n: language } }]);
      await service.app.pool.query("update deliveries set status = 'delivered', finished_at = utc_timestamp(3) where webhook_id = ?", [id]);
      const [[{ messageId }]] = await service.app.pool.query<any[]>("select concat('msg_', max(id)) as messageId from deliveries where webhook_id = ?", [id]);
      const resent = await runners[language]!(await generated('ResendWebHookDelivery', { id, messageId }, language), 'resend');
      ok(resent);
      if (language !== 'curl') expect(resent.stdout).to.contain(messageId).and.to.contain('pending');
      const attempts = await runners[language]!(await generated('GetWebHookDeliveryAttempts', { id, messageId }, language), 'attempts');
      ok(attempts);
      const since = new Date(Date.now() - 3_600_000).toISOString();
      const recovered = await runners[language]!(await generated('RecoverWebHookDeliveries', { id, since, until: '' }, language), 'recover');
      ok(recovered);
      if (language !== 'curl') expect(recovered.stdout).to.contain('scheduled');
      const portal = await runners[language]!(await generated('GetPortalLink', { webhookId: id, language: 'de' }, language), 'portal');
      ok(portal);
      expect(portal.stdout).to.contain(`${service.baseUrl}/portal/signin?token=`);
      const [before] = (await jsonClient(service.baseUrl).call('GetWebHooks', { username: account.username, password: account.password, app })).result;
      const rotated = await runners[language]!(await generated('RotateWebHookSecret', { id, keepOldMinutes: '0' }, language), 'rotate');
      ok(rotated);
      const [after] = (await jsonClient(service.baseUrl).call('GetWebHooks', { username: account.username, password: account.password, app })).result;
      expect(after.secret).not.to.equal(before.secret);
      if (language !== 'curl') expect(rotated.stdout).to.contain(after.secret);

      const headers = 'Authorization: Bearer "demo" $x \\ \'q\'\nX-Tenant: north';
      const moved = await runners[language]!(await generated('UpdateWebHook', { id, app, url: 'https://hooks.example.com/moved?x=1&y=2', maxPerSecond: '5', headers }, language), 'update');
      ok(moved);
      if (language !== 'curl') expect(moved.stdout).to.contain('https://hooks.example.com/moved?x=1&y=2');
      const kept = await runners[language]!(await generated('UpdateWebHook', { id, headers: 'Authorization\nX-Other: 2' }, language), 'keep');
      ok(kept);
      const [[changed]] = await service.app.pool.query<any[]>('select url, max_per_second, custom_headers from webhooks where id = ?', [id]);
      expect(changed).to.include({ url: 'https://hooks.example.com/moved?x=1&y=2', max_per_second: 5 });
      expect(JSON.parse(changed.custom_headers), 'headers as typed, the kept one with its value').to.deep.equal([
        { name: 'Authorization', value: 'Bearer "demo" $x \\ \'q\'' }, { name: 'X-Other', value: '2' },
      ]);

      const bad = await runners[language]!(await generated('CreateWebHook', { app, event: 'optin_started', url: 'https://hooks.example.com/' }, language), 'bad');
      if (language === 'curl') expect(bad.stdout).to.contain('<error>3</error>');
      else {
        expect(bad.code).to.equal(1);
        expect(bad.stderr).to.contain('failed with error 3');
      }

      ok(await runners[language]!(await generated('DeleteWebHookById', { id }, language), 'delete'));
      expect(await storedApps()).not.to.include(app);
    });
  }

  it("keeps clients made from the first release's WSDL working: a Mono proxy compiled from it calls the new service", async () => {
    const program = `using System;
class Program
{
    static int Main()
    {
        var service = new WebHookService();
        service.Url = "${service.baseUrl}/soap";
        var created = service.CreateWebHook("${account.username}", "${account.password}", "first release", "optout_finalized", "https://hooks.example.com/old");
        if (created.error != 0) { Console.Error.WriteLine(created.message); return 1; }
        var listed = service.GetWebHooks("${account.username}", "${account.password}", "first release", null);
        Console.WriteLine(listed.result.Length + " " + listed.result[0].id + " " + listed.result[0].secret);
        var activated = service.ActivateWebHook("${account.username}", "${account.password}", created.result.id, false, false);
        Console.WriteLine(activated.message);
        var deleted = service.DeleteWebHookById("${account.username}", "${account.password}", created.result.id);
        Console.WriteLine(deleted.error + " " + deleted.result);
        return 0;
    }
}
`;
    const ran = await runCsharp(program, path.resolve('test/fixtures/webhooks-first-release.wsdl'), 'first-release');
    expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
    expect(ran.stdout).to.match(/^1 \d+ whsec_\S+\nwebhook is already active\n0 True\n$/);
  });

  it("keeps clients made from the second release's WSDL working: its functions through a Mono proxy compiled from it", async () => {
    const program = `using System;
class Program
{
    static int Main()
    {
        var service = new WebHookService();
        service.Url = "${service.baseUrl}/soap";
        var created = service.CreateWebHook("${account.username}", "${account.password}", "second release", "optin_finalized", "https://hooks.example.com/second");
        var deliveries = service.GetWebHookDeliveries("${account.username}", "${account.password}", created.result.id, 10, true, "failed");
        var rotated = service.RotateWebHookSecret("${account.username}", "${account.password}", created.result.id, 0, true);
        var deleted = service.DeleteWebHookById("${account.username}", "${account.password}", created.result.id);
        Console.WriteLine(created.error + " " + deliveries.error + " " + (deliveries.result ?? new Delivery[0]).Length + " " + rotated.error + " " + (rotated.result.secret != created.result.secret) + " " + deleted.error);
        return 0;
    }
}
`;
    const ran = await runCsharp(program, path.resolve('test/fixtures/webhooks-second-release.wsdl'), 'second-release');
    expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
    expect(ran.stdout).to.equal('0 0 0 0 True 0\n');
  });

  it("keeps clients made from the third release's WSDL working: a webhook with a throttle and headers through a Mono proxy compiled from it", async () => {
    const created = await jsonClient(service.baseUrl).call('CreateWebHook', {
      username: account.username, password: account.password, app: 'third release', event: 'optout_finalized', url: 'https://hooks.example.com/third',
      maxPerSecond: 7, headers: [{ name: 'Authorization', value: 'Bearer third' }],
    });
    expect(created.error, created.message).to.equal(0);
    const program = `using System;
class Program
{
    static int Main()
    {
        var service = new WebHookService();
        service.Url = "${service.baseUrl}/soap";
        var listed = service.GetWebHooks("${account.username}", "${account.password}", "third release", null);
        var rotated = service.RotateWebHookSecret("${account.username}", "${account.password}", listed.result[0].id, 0, true);
        var activated = service.ActivateWebHook("${account.username}", "${account.password}", listed.result[0].id, true, true);
        Console.WriteLine(listed.error + " " + listed.result.Length + " " + listed.result[0].id + " " + listed.result[0].url + " " + rotated.error + " " + rotated.result.app + " " + activated.message);
        return 0;
    }
}
`;
    const ran = await runCsharp(program, path.resolve('test/fixtures/webhooks-third-release.wsdl'), 'third-release');
    expect(ran.code, ran.stdout + ran.stderr).to.equal(0);
    expect(ran.stdout).to.equal(`0 1 ${created.result.id} https://hooks.example.com/third 0 third release webhook is already active\n`);
  });

  it('shows a placeholder instead of the password unless asked, and masks it in the request it shows', async () => {
    const form = { fn: 'GetWebHooks', lang: 'en', username: account.username, password: account.password };
    const withoutPassword = await (await fetch(`${service.baseUrl}/webservicedemo`, { method: 'POST', body: new URLSearchParams({ ...form, action: 'run' }) })).text();
    expect(withoutPassword).not.to.contain(account.password);
    expect(withoutPassword).to.contain('YOUR_PASSWORD');
    expect(withoutPassword).to.contain('&lt;password&gt;********&lt;/password&gt;');
    expect(withoutPassword).to.contain('Error code: 0</strong> — success');
    const wrong = await (await fetch(`${service.baseUrl}/webservicedemo`, { method: 'POST', body: new URLSearchParams({ ...form, password: 'wrong-one', action: 'run' }) })).text();
    expect(wrong).to.contain('Error code: 1</strong> — authentication failed: wrong username or password');
  });

  it('takes the documentation from the WSDL, in German and English, and reads without JavaScript', async () => {
    const wsdl = await (await fetch(`${service.baseUrl}/soap?wsdl`)).text();
    const german = /<xs:element name="DeleteWebHookById">\s*<xs:annotation>.*?<xs:documentation xml:lang="de">([^<]+)</s.exec(wsdl)![1]!;
    const page = await (await fetch(`${service.baseUrl}/webservicedemo?fn=DeleteWebHookById&lang=de`)).text();
    expect(page).to.contain('<html lang="de">');
    expect(page).to.contain(german.replace(/\s+/g, ' ').trim());
    expect(page).to.contain('<label for="p-id">id');
    expect(page).to.match(/<input type="number" id="p-id" name="id" min="1"/);
    const english = await (await fetch(`${service.baseUrl}/webservicedemo?fn=ActivateWebHook`)).text();
    expect(english).to.match(/<input type="checkbox" id="p-replayEvents" name="replayEvents" value="1"/);
    expect(english).not.to.match(/<script>|src="http/);
  });

  it('refuses an unknown function and overlong values with a clear answer', async () => {
    const unknown = await fetch(`${service.baseUrl}/webservicedemo`, { method: 'POST', body: new URLSearchParams({ fn: 'DropTables', lang: 'en' }) });
    expect(unknown.status).to.equal(400);
    expect(await unknown.text()).to.match(/^unknown function/);
    const long = await fetch(`${service.baseUrl}/webservicedemo`, { method: 'POST', body: new URLSearchParams({ fn: 'GetWebHooks', lang: 'en', app: 'x'.repeat(10_001), action: 'run' }) });
    expect(long.status).to.equal(422);
    expect(await long.text()).to.contain('app is longer than 10000 characters.');
  });
});
