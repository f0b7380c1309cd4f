import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { freePort, waitForPort } from './helpers/ports.js';

const run = promisify(execFile);

/** What the processes do when the world around them is not as it should be. */
describe('the processes', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('refuse to serve on a port that is in use, with one line and a non-zero exit', async () => {
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const result = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
        env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'silent' },
        timeout: 20_000,
      }).then(({ stderr }) => ({ code: 0, stderr }), (error: { code: number; stderr: string }) => error);
      expect(result.code).to.equal(1);
      expect(result.stderr.trim()).to.equal(`webhooks: cannot listen on 127.0.0.1:${port}: the port is in use; set PORT and HOST`);
    } finally {
      busy.close();
    }
  });

  it('stop with npm start when npm is told to stop (SIGTERM to npm reaches the service)', async function () {
    this.timeout(90_000);
    await run('npx', ['tsc', '-p', '.']); // npm start runs the build, as after npm install
    const port = await freePort();
    // Its own process group, so that whatever it leaves behind can be cleaned up after the test.
    const npm = spawn('npm', ['start'], { env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: 'ignore', detached: true });
    try {
      await waitForPort(port);
      npm.kill('SIGTERM');
      await new Promise((resolve) => npm.once('exit', resolve));
      // The port is free again: nothing of the service is left holding it.
      const free: Server = createServer();
      const listened = await new Promise<boolean>((resolve) => {
        const deadline = Date.now() + 10_000;
        const attempt = () => {
          free.once('error', () => (Date.now() < deadline ? setTimeout(attempt, 200) : resolve(false)));
          free.listen(port, '127.0.0.1', () => resolve(true));
        };
        attempt();
      });
      free.close();
      expect(listened, 'the port is free after npm stopped').to.equal(true);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing was left
      }
    }
  });

  it('answer /readyz without telling the world which database failed or how', async () => {
    const app = new Application(loadConfig({ DATABASE_URL: 'mysql://secret-user:secret-password@127.0.0.1:1/hidden_db' }), silentLogger);
    const server = await app.listen(0, '127.0.0.1');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/readyz`);
      expect(response.status).to.equal(503);
      expect(await response.text()).to.equal('database unavailable\n');
    } finally {
      server.close();
      await app.close();
    }
  });

  it('keep a worker alive and its /metrics answering, with webhooks_database_up 0, while the database is gone', async () => {
    const own = await createTestDatabase();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
      env: { ...process.env, DATABASE_URL: own.url, METRICS_PORT: String(port), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    try {
      await waitForPort(port);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).to.match(/^webhooks_database_up 1$/m);
      await own.drop();
      for (let i = 0; i < 3; i += 1) {
        const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(scrape.status).to.equal(200);
        const text = await scrape.text();
        expect(text).to.match(/^webhooks_database_up 0$/m);
        expect(text, 'no queue figures without a database').not.to.match(/^webhooks_due /m);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(child.exitCode, 'the worker still runs').to.equal(null);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
