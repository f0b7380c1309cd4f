import { expect } from 'chai';
import { execFile } from 'node:child_process';
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
  });

  it('says what is wrong with a bad command or configuration', async () => {
    const unknown = await webhooks('frobnicate');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/^webhooks: unknown command 'frobnicate'/);
    const missing = await webhooks('emit', '--account', 'x');
    expect(missing.stderr).to.match(/^webhooks: --event is required/);
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
      env: { ...process.env, DATABASE_URL: 'postgres://nope' },
    }).catch((error) => error);
    expect(stderr.trim()).to.equal('webhooks: DATABASE_URL must look like mysql://user:password@host:3306/database (scheme mysql, with a database name)');
  });
});
