import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { migrate } from '../src/storage/migrator.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { freePort, waitForPort } from './helpers/ports.js';
import { TestReceiver } from './helpers/receiver.js';

// The last commit of the release before this one's migrations (011 to 015): its
// processes must keep working while they are applied.
const previousRelease = 'fa9e947';

/** migrate while the previous release's serve and worker run, then the new processes, then the old ones stop. */
describe('a rolling upgrade from the previous release', function () {
  this.timeout(180_000);
  let database: TestDatabase;
  let receiver: TestReceiver;
  let previous: string;

  before(async function () {
    // A shallow clone has no history: say so instead of passing silently.
    execFileSync('git', ['cat-file', '-e', `${previousRelease}^{commit}`]);
    previous = mkdtempSync(path.join(tmpdir(), 'previous-release-'));
    execFileSync('git', ['worktree', 'add', '--detach', '--force', previous, previousRelease], { stdio: 'ignore' });
    symlinkSync(path.resolve('node_modules'), path.join(previous, 'node_modules'));
    database = await createTestDatabase({ migrated: false });
    receiver = await new TestReceiver().start();
  });
  after(async () => {
    await receiver?.stop();
    await database?.drop();
    if (previous && existsSync(previous)) {
      execFileSync('git', ['worktree', 'remove', '--force', previous], { stdio: 'ignore' });
      rmSync(previous, { recursive: true, force: true });
    }
  });

  it('loses no event and logs no error in the old processes', async () => {
    const env = { ...process.env, DATABASE_URL: database.url, ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: 'upgrade', POLL_INTERVAL_MS: '100', LOG_LEVEL: 'warn' };
    const old = (args: string[], extra: Record<string, string> = {}) => {
      const logs: string[] = [];
      const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: previous, env: { ...env, ...extra } });
      child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      return { child, logs };
    };
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], { cwd: previous, env });
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'account', 'create', '--username', 'shop', '--password', 'upgrade-password', '--email', 'ops@shop.example'], { cwd: previous, env });
    const oldPort = await freePort();
    const oldServe = old(['serve'], { PORT: String(oldPort) });
    const oldWorker = old(['worker']);
    const newApp = new Application(loadConfig({ ...env, LOG_LEVEL: 'silent' } as Record<string, string>), silentLogger);
    const newServer = createServer(newApp.httpApp());
    try {
      await waitForPort(oldPort);
      const created = await (await fetch(`http://127.0.0.1:${oldPort}/json/createwebhook`, {
        method: 'POST', body: new URLSearchParams({ username: 'shop', password: 'upgrade-password', app: 'crm', event: 'optin_finalized', url: receiver.url('/upgrade') }),
      })).json() as { error: number };
      expect(created.error).to.equal(0);

      let origin = `http://127.0.0.1:${oldPort}`;
      let sending = true;
      const accepted = new Set<number>();
      const stream = (async () => {
        for (let n = 0; sending; n += 1) {
          const response = await fetch(`${origin}/internal/events`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer upgrade' },
            body: JSON.stringify({ account: 'shop', event: 'optin_finalized', subscriber: `s${n % 5}`, payload: { n } }),
          });
          expect(response.status, `event ${n}`).to.equal(202);
          accepted.add(n);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const applied = await migrate(database.url); // while the old serve and worker run
      expect(applied.length).to.be.above(0);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await new Promise<void>((resolve) => newServer.listen(0, '127.0.0.1', resolve));
      newApp.enableDirectDelivery();
      const newWorker = newApp.createWorker();
      newWorker.start();
      origin = `http://127.0.0.1:${(newServer.address() as AddressInfo).port}`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const { child } of [oldServe, oldWorker]) child.kill('SIGTERM');
      await Promise.all([oldServe, oldWorker].map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      sending = false;
      await stream;

      const deadline = Date.now() + 30_000;
      const arrived = () => new Set(receiver.receipts.map((r) => Number(JSON.parse(r.body).n)));
      while (arrived().size < accepted.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(accepted.size).to.be.above(100);
      expect([...accepted].filter((n) => !arrived().has(n)), 'accepted, never arrived').to.deep.equal([]);
      const errors = [...oldServe.logs, ...oldWorker.logs].join('').split('\n').filter((line) => /"level":(50|60)/.test(line));
      expect(errors, 'errors in the old processes\' logs').to.deep.equal([]);
      await newWorker.stop();
    } finally {
      for (const { child } of [oldServe, oldWorker]) child.kill('SIGKILL');
      newServer.close();
      await newApp.close();
    }
  });
});
