import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createAccount } from '../src/services/accounts.js';
import { migrate } from '../src/storage/migrator.js';
import { startPrivateMariadb, type PrivateMariadb } from './helpers/mariadbServer.js';
import { freePort, waitForPort } from './helpers/ports.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rules = 'ops/prometheus/alerts.yml';
const units = readdirSync('ops/systemd').map((name) => path.join('ops/systemd', name));

/** The metric names a PromQL text uses (a histogram's series by their family's name). */
function metricsIn(text: string): string[] {
  const code = text.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
  return [...new Set([...code.matchAll(/\bwebhooks_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, '')))];
}

const dashboardQueries = (): string[] =>
  (JSON.parse(readFileSync('ops/grafana/webhooks.json', 'utf8')).panels as Array<{ targets: Array<{ expr: string }> }>).flatMap((panel) => panel.targets.map((t) => t.expr));

describe('operating it: alerts, dashboard, units', function () {
  this.timeout(240_000);

  it('the rules pass promtool check and their own tests, firing and not firing, for every alert', async () => {
    const checked = await run('promtool', ['check', 'rules', rules]);
    expect(checked.stdout).to.contain('SUCCESS: 7 rules found');
    const tested = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: 'ops/prometheus' });
    expect(tested.stdout).to.contain('SUCCESS');
    const alerts = [...readFileSync(rules, 'utf8').matchAll(/- alert: (\w+)/g)].map(([, name]) => name!);
    const tests = readFileSync('ops/prometheus/alerts.test.yml', 'utf8');
    for (const alert of alerts) {
      expect(tests, `${alert} fires in a test`).to.match(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
      expect(tests, `${alert} stays quiet in a test`).to.match(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`));
    }
  });

  it('every alert has a summary, a description and a runbook section in docs/operations.md', () => {
    const text = readFileSync(rules, 'utf8');
    const operations = readFileSync('docs/operations.md', 'utf8');
    const anchors = new Set([...operations.matchAll(/^#+ (.+)$/gm)].map(([, heading]) => heading!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    const alerts = text.split('- alert: ').slice(1);
    expect(alerts).to.have.length(7);
    for (const alert of alerts) {
      const name = alert.split('\n')[0]!;
      expect(alert, name).to.match(/summary: \S/).and.to.match(/description: \S/);
      const anchor = /runbook_url: docs\/operations\.md#([a-z0-9-]+)/.exec(alert)?.[1];
      expect(anchors.has(anchor ?? ''), `${name}'s runbook #${anchor}`).to.equal(true);
    }
  });

  it('the systemd units pass systemd-analyze verify (and a broken one does not)', async () => {
    expect(units.map((unit) => path.basename(unit)).sort()).to.deep.equal(['webhooks-cron.service', 'webhooks-cron.timer', 'webhooks-serve.service', 'webhooks-worker@.service']);
    const verified = await run('systemd-analyze', ['verify', ...units.map((unit) => `./${unit}`)]).then(() => '', (error) => String(error.stderr));
    expect(verified).to.equal('');
    for (const unit of units.filter((u) => u.endsWith('.service'))) {
      const text = readFileSync(unit, 'utf8');
      for (const hardening of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'EnvironmentFile=', 'KillSignal=SIGTERM', 'TimeoutStopSec=']) expect(text, unit).to.contain(hardening);
    }
    const broken = mkdtempSync(path.join(tmpdir(), 'units-'));
    try {
      writeFileSync(path.join(broken, 'webhooks-serve.service'), readFileSync('ops/systemd/webhooks-serve.service', 'utf8').replace('ExecStart=/usr/bin/node', 'ExecStart=node-that-is-not-there'));
      const failed = await run('systemd-analyze', ['verify', path.join(broken, 'webhooks-serve.service')]).then(() => false, () => true);
      expect(failed, 'verify catches a unit that cannot start').to.equal(true);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  describe('against a real Prometheus', () => {
    let database: PrivateMariadb;
    let receiver: Server;
    let serve: ChildProcess;
    let worker: ChildProcess | undefined;
    let prometheus: ChildProcess;
    let prometheusDir: string;
    let prometheusUrl: string;
    let servePort: number;
    let workerPort: number;
    let delivered = 0;
    const token = 'operations-test-token';

    const api = async (what: string): Promise<any> => (await (await fetch(`${prometheusUrl}/api/v1/${what}`)).json() as any).data;
    const firing = async (name: string) => (await api('alerts')).alerts.some((a: any) => a.labels.alertname === name && a.state === 'firing');
    const postEvent = (n: number) =>
      fetch(`http://127.0.0.1:${servePort}/internal/events`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ account: 'ops', event: 'optin_finalized', subscriber: `s${n % 10}`, payload: { n } }),
      });
    const scrapeBoth = async () => (await Promise.all([servePort, workerPort].map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()))).join('\n');
    const cli = (args: string[], env: Record<string, string>) =>
      spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        env: { ...process.env, DATABASE_URL: database.url('webhooks'), LOG_LEVEL: 'silent', ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: token, DIRECT_DELIVERY: '0', ...env },
        stdio: 'ignore',
      });

    before(async () => {
      database = await startPrivateMariadb();
      await migrate(database.url('webhooks'));
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          delivered += 1;
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const setup = new Application(loadConfig({ DATABASE_URL: database.url('webhooks'), ALLOW_PRIVATE_TARGETS: '1' }), silentLogger);
      try {
        const accountId = await createAccount(setup.pool, setup.clock, { username: 'ops', password: 'ops-password', email: 'ops@example.com', language: 'en' });
        await setup.webhooks.create(accountId, { app: 'crm', event: 'optin_finalized', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
      } finally {
        await setup.close();
      }
      servePort = await freePort();
      workerPort = await freePort();
      serve = cli(['serve'], { PORT: String(servePort) });
      worker = cli(['worker'], { METRICS_PORT: String(workerPort) });
      await Promise.all([waitForPort(servePort), waitForPort(workerPort)]);

      // The shipped rules, with only their `for` shortened, so that the test need not wait minutes.
      prometheusDir = mkdtempSync(path.join(tmpdir(), 'prometheus-'));
      writeFileSync(path.join(prometheusDir, 'alerts.yml'), readFileSync(rules, 'utf8').replace(/^(\s+for: )\S+$/gm, '$11s'));
      copyFileSync('ops/grafana/webhooks.json', path.join(prometheusDir, 'dashboard.json'));
      writeFileSync(path.join(prometheusDir, 'prometheus.yml'), `global:
  scrape_interval: 3s
  scrape_timeout: 3s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: webhooks
    static_configs:
      - targets: ['127.0.0.1:${servePort}', '127.0.0.1:${workerPort}']
`);
      const prometheusPort = await freePort();
      prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
      prometheus = spawn('prometheus', [
        `--config.file=${path.join(prometheusDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(prometheusDir, 'data')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ], { stdio: 'ignore' });
      await waitForPort(prometheusPort);
    });

    after(async () => {
      for (const child of [serve, worker, prometheus]) {
        if (!child || child.exitCode !== null) continue;
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      receiver?.close();
      await database?.stop();
      rmSync(prometheusDir, { recursive: true, force: true });
    });

    it('scrapes serve and worker (all targets up, every rule healthy), and every metric a rule or the dashboard names is exported', async () => {
      for (let n = 0; n < 5; n += 1) expect((await postEvent(n)).status).to.equal(202);
      let targets: any[] = [];
      for (let i = 0; i < 40; i += 1) {
        targets = (await api('targets')).activeTargets;
        if (targets.length === 2 && targets.every((t) => t.health === 'up')) break;
        await sleep(500);
      }
      expect(targets.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).sort()).to.deep.equal(
        [`http://127.0.0.1:${servePort}/metrics up `, `http://127.0.0.1:${workerPort}/metrics up `].sort(),
      );
      let ruleHealth: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        ruleHealth = (await api('rules')).groups.flatMap((g: any) => g.rules.map((r: any) => `${r.name} ${r.health}`));
        if (ruleHealth.length === 7 && ruleHealth.every((r) => r.endsWith(' ok'))) break;
        await sleep(500);
      }
      expect(ruleHealth).to.have.length(7);
      expect(ruleHealth.filter((r) => !r.endsWith(' ok')), 'rules not healthy').to.deep.equal([]);
      for (let i = 0; i < 40 && delivered < 5; i += 1) await sleep(250);
      expect(delivered, 'the worker delivers').to.equal(5);
      const exported = new Set([...(await scrapeBoth()).matchAll(/^# TYPE (\S+)/gm)].map(([, name]) => name!));
      const named = metricsIn([readFileSync(rules, 'utf8'), ...dashboardQueries()].join('\n'));
      expect(named.length).to.be.above(10);
      expect(named.filter((name) => !exported.has(name)), 'named in a rule or the dashboard, exported by no process').to.deep.equal([]);
      const queueFigures = (await scrapeBoth()).match(/^webhooks_deliveries_pending /gm) ?? [];
      expect(queueFigures, 'the queue is reported by one process at a time').to.have.length(1);
    });

    it('WebhooksNoWorker fires when the worker stops while events arrive', async () => {
      worker!.kill('SIGTERM');
      await new Promise((resolve) => worker!.once('exit', resolve));
      let n = 100;
      let fired = false;
      for (let i = 0; i < 90 && !fired; i += 1) {
        await postEvent(n++);
        await sleep(1000);
        fired = await firing('WebhooksNoWorker');
      }
      expect(fired, 'WebhooksNoWorker firing within 90 s').to.equal(true);
      expect(await firing('WebhooksDatabaseUnavailable')).to.equal(false);
    });

    it('WebhooksDatabaseUnavailable fires when the database stops', async () => {
      database.kill();
      let fired = false;
      for (let i = 0; i < 60 && !fired; i += 1) {
        await sleep(1000);
        fired = await firing('WebhooksDatabaseUnavailable');
      }
      expect(fired, 'WebhooksDatabaseUnavailable firing within 60 s').to.equal(true);
      const alert = (await api('alerts')).alerts.find((a: any) => a.labels.alertname === 'WebhooksDatabaseUnavailable');
      expect(alert.labels.instance).to.equal(`127.0.0.1:${servePort}`);
      expect(alert.annotations.runbook_url).to.equal('docs/operations.md#webhooksdatabaseunavailable');
    });
  });
});
