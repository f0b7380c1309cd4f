import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { parseDatabaseUrl } from '../src/storage/database.js';
import { phpSoapClient } from './helpers/clients.js';
import { runPhp } from './helpers/php.js';
import { TestReceiver } from './helpers/receiver.js';
import { startService, type RunningService } from './helpers/service.js';

const run = promisify(execFile);
const token = 'accounts-token';
const marker = 'closing.customer@example.com';

/** PUT, GET and DELETE /internal/accounts/{username}, and the command line's account commands. */
describe('accounts as the platform keeps them', function () {
  this.timeout(60_000);
  let service: RunningService;
  let receiver: TestReceiver;

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: token, CREDENTIAL_CACHE_SECONDS: '60' });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  async function call(method: string, username: string, body?: unknown, bearer = token): Promise<{ status: number; json: any }> {
    const response = await fetch(`${service.baseUrl}/internal/accounts/${encodeURIComponent(username)}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  const soap = () => phpSoapClient(service.baseUrl);
  const login = async (username: string, password: string) => (await soap().call('GetWebHooks', { username, password })).error;

  for (const algorithm of ['PASSWORD_BCRYPT', 'PASSWORD_ARGON2ID', 'PASSWORD_ARGON2I']) {
    it(`takes what PHP's password_hash() writes (${algorithm}) and logs in over SOAP with the plaintext`, async () => {
      const username = `php-${algorithm.toLowerCase()}`;
      const hash = await runPhp<string>(`echo json_encode(password_hash(json_decode(getenv('INPUT')), ${algorithm}));`, 'the platform password');
      const created = await call('PUT', username, { passwordHash: hash, email: 'ops@shop.example', language: 'en' });
      expect(created.status).to.equal(201);
      expect(created.json.result).to.deep.include({ username, email: 'ops@shop.example', language: 'en', webhooks: 0 });
      expect(await login(username, 'the platform password')).to.equal(0);
      expect(await login(username, 'another password')).to.equal(1);
      const again = await call('PUT', username, { passwordHash: hash });
      expect(again.status, 'the same call again changes nothing').to.equal(200);
      const [[row]] = await service.app.pool.query<any[]>('select password_hash from accounts where username = ?', [username]);
      expect(row.password_hash, 'kept as given').to.equal(hash);
    });
  }

  it('never shows a secret: GET answers the account without its hash', async () => {
    await call('PUT', 'shown', { password: 'plain-password-1', email: 'shown@shop.example' });
    const shown = await call('GET', 'shown');
    expect(shown.status).to.equal(200);
    expect(Object.keys(shown.json.result).sort()).to.deep.equal(['createdAt', 'email', 'language', 'username', 'webhooks']);
    expect(JSON.stringify(shown.json)).not.to.match(/scrypt|\$2y\$|argon|password/i);
    expect(shown.json.result.language, 'the default, as account create').to.equal('de');
  });

  it('stops a changed password within a second in another serve process, and lets the new one in', async () => {
    await call('PUT', 'changing', { password: 'the-old-password', email: 'c@shop.example' });
    const other = service.anotherProcess({ INTERNAL_TOKEN: token, CREDENTIAL_CACHE_SECONDS: '60' });
    const callOther = (password: string) => other.webservice.call('GetWebHooks', { username: 'changing', password }, {}).then(() => 0, (error) => error.code);
    expect(await callOther('the-old-password')).to.equal(0); // remembered there from now on
    expect((await call('PUT', 'changing', { password: 'the-new-password' })).status).to.equal(200);
    expect(await login('changing', 'the-old-password'), 'at once in the process that changed it').to.equal(1);
    const changedAt = Date.now();
    while ((await callOther('the-old-password')) === 0) {
      expect(Date.now() - changedAt, 'the old password still works in the other process').to.be.below(2500);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await callOther('the-new-password')).to.equal(0);
  });

  it('closes an account: its webhooks stop, everything stored for it is erased, its calls fail at once', async () => {
    const username = 'closing';
    await call('PUT', username, { password: 'closing-password', email: marker });
    expect(await login(username, 'closing-password')).to.equal(0);
    const account = (await service.app.pool.query<any[]>('select id from accounts where username = ?', [username]))[0][0].id;
    const webhook = await service.app.webhooks.create(account, { app: 'crm', event: 'optin_finalized', url: receiver.url('/closing') });
    receiver.reply = () => ({ status: 500, body: `could not process ${marker}` });
    await service.app.intake.accept([{ account: username, event: 'optin_finalized', subscriber: 's', payload: { email: marker } }]);
    await service.app.createWorker().runOnce();
    await service.app.intake.accept([{ account: username, event: 'optin_finalized', subscriber: 't', payload: { email: marker } }]);
    await service.app.pool.query("insert into event_outbox (account, event, payload) values (?, 'optin_finalized', ?)", [username, JSON.stringify({ email: marker })]);
    await soap().call('GetWebHooks', { username, password: 'wrong-password' }); // a throttling row
    await service.app.pool.query(
      "insert into notifications (account_id, webhook_id, deactivation, kind, details, created_at, next_attempt_at) values (?, ?, 1, 'webhook_deactivated', ?, utc_timestamp(3), utc_timestamp(3))",
      [account, webhook.id, JSON.stringify({ lastError: marker })],
    );

    const closed = await call('DELETE', username);
    expect(closed.status).to.equal(200);
    expect(closed.json.result).to.deep.equal({ webhooks: 1, events: 2, deliveries: 2, attempts: 1, outboxRows: 1, notifications: 1, throttlingRows: 2 });
    expect(await login(username, 'closing-password'), 'its calls fail at once').to.equal(1);
    receiver.receipts.length = 0;
    receiver.reply = () => ({ status: 200 });
    await service.app.createWorker().runOnce();
    await service.app.intake.drainOutbox();
    expect(receiver.receipts, 'nothing is sent for it afterwards').to.have.length(0);
    const { connection } = parseDatabaseUrl(service.database.url);
    const { stdout } = await run('mariadb-dump', ['-h', String(connection.host), '-P', String(connection.port), '-u', String(connection.user), '--skip-extended-insert', service.database.name], { maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).not.to.contain(marker);
    expect((await call('DELETE', username)).status, 'a second close finds nothing').to.equal(404);
  });

  it('answers bad input with 4xx and the webservice\'s error codes', async () => {
    const refused = async (method: string, username: string, body: unknown, status: number, error: number, bearer = token) => {
      const answer = await call(method, username, body, bearer);
      expect(answer.status, JSON.stringify(body)).to.equal(status);
      expect(answer.json.error, JSON.stringify(answer.json)).to.equal(error);
      return answer.json.message as string;
    };
    expect(await refused('PUT', 'bad', { passwordHash: '$1$abcdefgh$0123456789abcdefghijkl', email: 'b@shop.example' }, 400, 3)).to.contain('passwordHash');
    const bcrypt = await runPhp<string>("echo json_encode(password_hash('truncated-one', PASSWORD_BCRYPT));", null);
    await refused('PUT', 'bad', { passwordHash: bcrypt.slice(0, 40), email: 'b@shop.example' }, 400, 3);
    await refused('PUT', 'bad', { password: '', email: 'b@shop.example' }, 400, 3);
    await refused('PUT', 'bad', { password: 'long-enough-1', passwordHash: bcrypt, email: 'b@shop.example' }, 400, 3);
    await refused('PUT', 'bad', { password: 'long-enough-1', email: 'not an address' }, 400, 3);
    await refused('PUT', 'bad', { password: 'long-enough-1', email: 'b@shop.example', language: 'fr' }, 400, 3);
    await refused('PUT', 'bad', { password: 'long-enough-1' }, 400, 2);
    await refused('PUT', 'bad', { email: 'b@shop.example' }, 400, 2);
    await refused('PUT', ' padded', { password: 'long-enough-1', email: 'b@shop.example' }, 400, 3);
    await refused('GET', 'nobody', undefined, 404, 4);
    await refused('DELETE', 'nobody', undefined, 404, 4);
    await refused('GET', 'nobody', undefined, 401, 1, 'wrong-token');
    expect((await call('GET', 'bad')).status, 'nothing was stored').to.equal(404);
  });

  it('reads the password from standard input on the command line, and answers a mistyped option with one line and the usage', async () => {
    const env = { ...process.env, DATABASE_URL: service.database.url, LOG_LEVEL: 'silent' };
    const cli = (args: string[], stdin?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.stdin.end(stdin ?? '');
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    const created = await cli(['account', 'create', '--username', 'from-stdin', '--email', 'cli@shop.example', '--password-stdin'], 'typed-not-shown\n');
    expect(created.code, created.stderr).to.equal(0);
    expect(await login('from-stdin', 'typed-not-shown')).to.equal(0);
    const changed = await cli(['account', 'set', '--username', 'from-stdin', '--language', 'en', '--password-stdin'], 'another-secret\n');
    expect(changed.code, changed.stderr).to.equal(0);
    expect(await login('from-stdin', 'another-secret')).to.equal(0);
    const listed = await cli(['account', 'list']);
    expect(listed.stdout).to.match(/^from-stdin\tcli@shop\.example\ten\t0 webhooks\tsince /m);
    expect(listed.stdout).not.to.match(/scrypt|another-secret/);
    for (const args of [['account', 'create', '--pasword', 'x'], ['emit', '--acount', 'x'], ['account', 'delete'], ['account', 'rename', '--username', 'x']]) {
      const mistyped = await cli(args);
      expect(mistyped.code, args.join(' ')).to.equal(2);
      const [first, blank, usage] = mistyped.stderr.split('\n');
      expect(first, args.join(' ')).to.match(new RegExp(`^webhooks: ${args[0]}: `));
      expect([blank, usage]).to.deep.equal(['', `usage: webhooks ${args[0]} [options]`]);
      expect(mistyped.stderr).not.to.match(/TypeError|\n\s+at /);
    }
    const deleted = await cli(['account', 'delete', '--username', 'from-stdin']);
    expect(deleted.stdout).to.match(/^closed from-stdin: 0 webhooks/);
    expect((await cli(['--version'])).stdout.trim()).to.match(/^\d+\.\d+\.\d+$/);
  });
});
