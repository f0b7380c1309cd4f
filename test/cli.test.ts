import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, waitForPort } from './helpers/ports.js';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { TestReceiver } from './helpers/receiver.js';

const run = promisify(execFile);

describe('the webhooks command line', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let receiver: TestReceiver;

  before(async () => {
    database = await createTestDatabase();
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await database.drop();
  });

  async function webhooks(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        env: { ...process.env, DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', LOG_LEVEL: 'silent' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('creates an account, takes an event, delivers it in one pass and shows the attempt', async () => {
    const created = await webhooks('account', 'create', '--username', 'cli-shop', '--password', 'cli-password', '--email', 'ops@shop.example');
    expect(created.code).to.equal(0);
    expect(created.stdout.trim()).to.match(/^\d+$/);

    const duplicate = await webhooks('account', 'create', '--username', 'cli-shop', '--password', 'cli-password', '--email', 'ops@shop.example');
    expect(duplicate.code).to.equal(1);
    expect(duplicate.stderr.trim()).to.equal("webhooks: an account named 'cli-shop' exists already");

    const { Application } = await import('../src/main.js');
    const { loadConfig } = await import('../src/config.js');
    const { silentLogger } = await import('../src/logger.js');
    const app = new Application(loadConfig({ DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1' }), silentLogger);
    const webhook = await app.webhooks.create(Number(created.stdout), { app: 'cli', event: 'optin_finalized', url: receiver.url() });
    await app.close();

    const emitted = await webhooks('emit', '--account', 'cli-shop', '--event', 'optin_finalized', '--payload', '{"id": 7}');
    expect(emitted.stdout).to.match(/^event \d+ stored, 1 deliveries$/m);
    const bad = await webhooks('emit', '--account', 'cli-shop', '--event', 'optin_finalized', '--payload', '[7]');
    expect(bad.code).to.equal(1);
    expect(bad.stderr.trim()).to.equal("webhooks: parameter 'payload' must be a JSON object");

    expect((await webhooks('worker', '--once')).code).to.equal(0);
    expect(receiver.receipts.map((r) => r.body)).to.deep.equal(['{"id": 7}']);

    const shown = await webhooks('deliveries', '--webhook', String(webhook.id));
    expect(shown.stdout).to.match(/^\d{4}-\d\d-\d\dT\S+Z {2}delivery \d+ {2}200 {2}\d+ ms {2}ok$/m);
    const withPayloads = await webhooks('deliveries', '--webhook', String(webhook.id), '--payloads');
    expect(withPayloads.stdout).to.match(/^\S+Z {2}delivery \d+ \(msg_\d+\) {2}optin_finalized {2}delivered, 1 attempts\n {2}\{"id": 7\}$/m);

    await webhooks('emit', '--account', 'cli-shop', '--event', 'optin_finalized', '--subscriber', 'sub-42', '--payload', '{"id": 8}');
    const erased = await webhooks('erase', '--account', 'cli-shop', '--subscriber', 'sub-42');
    expect(erased.code).to.equal(0);
    expect(erased.stdout.trim()).to.equal('erased 1 events, 1 deliveries (1 not yet sent, now never), 0 attempts, 0 outbox rows; 0 stored answer texts scrubbed');

    const withId = await webhooks('emit', '--account', 'cli-shop', '--event', 'optin_finalized', '--payload', '{"id": 8}', '--id', 'platform-8');
    const eventId = /^event (\d+) stored/.exec(withId.stdout)![1];
    const repeated = await webhooks('emit', '--account', 'cli-shop', '--event', 'optin_finalized', '--payload', '{"id": 8}', '--id', 'platform-8');
    expect(repeated.stdout.trim()).to.equal(`event ${eventId} was stored before under this id: nothing new`);
  });

  it('on SIGTERM, serve finishes the SOAP call in flight before it exits', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    try {
      await waitForPort(port);
      const body = '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>cli-shop</username><password>cli-password</password></GetWebHooks></s:Body></s:Envelope>';
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const answer = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
      });
      socket.write(`POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 40)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.write(body.slice(40));
      expect(await answer).to.match(/^HTTP\/1.1 200 [\s\S]*<error>0<\/error>/);
      expect(await new Promise((resolve) => child.once('exit', resolve))).to.equal(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses to start on a database that is not set up, and says what to do', async () => {
    const { stderr, code } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: { ...process.env, DATABASE_URL: `${database.url}_missing`, PORT: '0' },
    }).then(() => ({ stderr: '', code: 0 }), (error) => error);
    expect(code).to.equal(1);
    expect(stderr.trim()).to.equal('webhooks: the database is not set up: run webhooks migrate');
  });

  it('says what is wrong with a bad command or configuration', async () => {
    const unknown = await webhooks('frobnicate');
    expect(unknown.code, 'a usage error').to.equal(2);
    expect(unknown.stderr).to.match(/^webhooks: unknown command 'frobnicate'/);
    const missing = await webhooks('emit', '--account', 'x');
    expect(missing.stderr).to.match(/^webhooks: emit: --event is required/);
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
      env: { ...process.env, DATABASE_URL: 'postgres://nope' },
    }).catch((error) => error);
    expect(stderr.trim()).to.equal('webhooks: DATABASE_URL must look like mysql://user:password@host:3306/database, or with several nodes mysql://user:password@h1:3306,h2:3306,h3:3306/database (scheme mysql, with a database name)');
  });

  it('refuses settings that cannot work together, with one line naming them and what would work', async () => {
    const refused = async (env: Record<string, string>) => {
      const result = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker', '--once'], {
        env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent', ...env },
        timeout: 20_000,
      }).then(({ stderr }) => ({ code: 0, stderr }), (error: { code: number; stderr: string }) => error);
      expect(result.code, JSON.stringify(env)).to.equal(1);
      expect(result.stderr.trim().split('\n'), 'one line').to.have.length(1);
      return result.stderr.trim();
    };
    expect(await refused({ LEASE_SECONDS: '3' })).to.equal(
      'webhooks: LEASE_SECONDS=3 cannot work with DELIVERY_TIMEOUT_MS=10000: a lease must last twice an attempt plus 1 s; set LEASE_SECONDS to at least 22 or DELIVERY_TIMEOUT_MS to at most 500',
    );
    expect(await refused({ WORKER_CONCURRENCY: '4', ACCOUNT_CONCURRENCY: '10' })).to.match(/^webhooks: ACCOUNT_CONCURRENCY=10 is more than WORKER_CONCURRENCY=4: .* set ACCOUNT_CONCURRENCY to at most 4/);
    expect(await refused({ BUFFER_DAYS: '10', BUFFER_RETENTION_DAYS: '7' })).to.match(/^webhooks: BUFFER_RETENTION_DAYS=7 is shorter than BUFFER_DAYS=10: .* at least 10$/);
    expect(await refused({ MAX_PAYLOAD_BYTES: '2000000' })).to.match(/^webhooks: MAX_PAYLOAD_BYTES=2000000 is more than MAX_REQUEST_BYTES=1048576/);
    expect(await refused({ CIRCUIT_AFTER_FAILURES: '0' })).to.match(/^webhooks: CIRCUIT_AFTER_FAILURES=0 must lie between 1 and DEACTIVATE_AFTER_FAILURES=8: .* from 1 to 8$/);
    expect(await refused({ CIRCUIT_AFTER_FAILURES: '5', DEACTIVATE_AFTER_FAILURES: '4' })).to.match(/^webhooks: CIRCUIT_AFTER_FAILURES=5 must lie between 1 and DEACTIVATE_AFTER_FAILURES=4/);
  });
});

