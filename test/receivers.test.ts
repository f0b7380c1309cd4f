import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeAccount, startService, type RunningService } from './helpers/service.js';
import { freePort, waitForPort } from './helpers/ports.js';

const receivers: Record<string, (port: number) => [string, string[]]> = {
  php: (port) => ['php', ['-S', `127.0.0.1:${port}`, path.resolve('docs/receivers/receiver.php')]],
  javascript: () => [process.execPath, [path.resolve('docs/receivers/receiver.mjs')]],
};

/** The sample receivers of docs/receivers.md, as they are, against the running service. */
describe('the sample receivers', function () {
  this.timeout(60_000);
  let service: RunningService;

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1' });
  });
  after(() => service.stop());

  for (const [language, command] of Object.entries(receivers)) {
    it(`verify the signature, answer a test request as none, drop a duplicate and name the gap a given-up event leaves (${language})`, async () => {
      const account = await makeAccount(service);
      const port = await freePort();
      const webhook = await service.app.webhooks.create(account.id, { app: 'receiver', event: 'optin_finalized', url: `http://127.0.0.1:${port}/hook` });
      const work = mkdtempSync(path.join(tmpdir(), 'receiver-'));
      const log = path.join(work, 'log');
      const [program, args] = command(port);
      const child: ChildProcess = spawn(program, args, {
        env: { ...process.env, WEBHOOK_SECRET: webhook.secret, PORT: String(port), HOST: '127.0.0.1', RECEIVER_LOG: log, RECEIVER_STATE: path.join(work, 'state.json') },
        stdio: 'ignore',
      });
      try {
        await waitForPort(port);
        await service.app.intake.accept(['x-1', 'x-2', 'x-3', 'y-1'].map((n) => ({ account: account.username, event: 'optin_finalized', subscriber: n[0], payload: { n } })));
        // x-2 was given up: the receiver never gets it, and learns so from x-3.
        await service.app.pool.query("update deliveries d join events e on e.id = d.event_id set d.status = 'failed' where d.webhook_id = ? and json_value(e.payload, '$.n') = 'x-2'", [webhook.id]);
        const worker = service.app.createWorker();
        await worker.runOnce();
        const [[first]] = await service.app.pool.query<any[]>("select concat('msg_', min(id)) as messageId from deliveries where webhook_id = ?", [webhook.id]);
        await service.app.webhooks.resend(account.id, webhook.id, Number(first.messageId.slice(4)));
        await worker.runOnce();
        const forged = await fetch(`http://127.0.0.1:${port}/hook`, {
          method: 'POST',
          headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,Zm9yZ2Vk' },
          body: '{}',
        });
        expect(forged.status).to.equal(401);
        const tested = await service.app.webhooks.test(account.id, webhook.id);
        expect(tested).to.include({ succeeded: true, statusCode: 204 });
        const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
        expect(lines.filter((line) => line.startsWith('accepted')), 'three events, not the test request').to.have.length(3);
        expect(lines.filter((line) => /^test request msg_test_\w+: answered, nothing handled$/.test(line))).to.have.length(1);
        expect(lines).to.include('gap before sequence 3: sequence 2 never arrived');
        expect(lines).to.include(`duplicate ${first.messageId} (sequence 1): already handled`);
        expect(lines).to.include('refused msg_1: bad signature or timestamp');
      } finally {
        child.kill();
      }
    });
  }
});
