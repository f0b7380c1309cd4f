import type { Server } from 'node:http';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { Authenticator } from './services/authenticator.js';
import { resolveWithDns, WebhookService, type ResolveHost } from './services/webhookService.js';
import { Webservice } from './services/webservice.js';
import { EventIntake } from './services/eventIntake.js';
import { DeliveryWorker } from './services/deliveryWorker.js';
import { Housekeeping } from './services/housekeeping.js';
import { WebhookSender, type Sender } from './transports/outbound/webhookSender.js';
import { intakeEndpoint } from './transports/http/intakeEndpoint.js';
import { createPool, type Pool, type RowDataPacket } from './storage/database.js';
import { pendingMigrations } from './storage/migrator.js';
import { createHttpApp } from './transports/http/app.js';
import { loadWsdl } from './transports/soap/wsdl.js';

export interface Dependencies {
  clock?: Clock;
  resolveHost?: ResolveHost;
  sender?: Sender;
}

/** The composition root: every service wired once, for the CLI and for tests alike. */
export class Application {
  readonly pool: Pool;
  readonly clock: Clock;
  readonly authenticator: Authenticator;
  readonly webhooks: WebhookService;
  readonly webservice: Webservice;
  readonly intake: EventIntake;
  private readonly workers: DeliveryWorker[] = [];
  private readonly senders: Sender[] = [];

  constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly dependencies: Dependencies = {},
  ) {
    this.clock = dependencies.clock ?? systemClock;
    this.pool = createPool(config.databaseUrl, 20);
    this.authenticator = new Authenticator(this.pool, this.clock, config);
    // Work made in this process wakes this process's worker at once; other
    // processes' workers find it at their next poll.
    const wakeWorkers = () => this.workers.forEach((worker) => worker.notify());
    this.webhooks = new WebhookService(this.pool, this.clock, config, dependencies.resolveHost ?? resolveWithDns, wakeWorkers);
    this.webservice = new Webservice(this.authenticator, this.webhooks);
    this.intake = new EventIntake(this.pool, this.clock, config, wakeWorkers);
  }

  /** A delivery worker with its background jobs; start() it, or runOnce() for cron. */
  createWorker(id?: string): DeliveryWorker {
    const sender = this.dependencies.sender ?? new WebhookSender({ timeoutMs: this.config.deliveryTimeoutMs, allowPrivateTargets: this.config.allowPrivateTargets });
    if (!this.dependencies.sender) this.senders.push(sender);
    const jobs = [
      { name: 'outbox', run: () => this.intake.drainOutbox() },
      new Housekeeping(this.pool, this.clock, this.config),
    ];
    const worker = new DeliveryWorker(this.pool, this.clock, sender, this.log, this.config, jobs, id);
    this.workers.push(worker);
    return worker;
  }

  async checkReady(): Promise<void> {
    const pending = await pendingMigrations(async (sql) => {
      const [rows] = await this.pool.query<RowDataPacket[]>(sql);
      return rows.map((row) => String(row.version));
    });
    if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
  }

  httpApp() {
    return createHttpApp(this.webservice, this.log, {
      wsdl: loadWsdl(this.config.publicUrl),
      maxRequestBytes: this.config.maxRequestBytes,
      trustProxy: this.config.trustProxy,
      checkReady: () => this.checkReady(),
      extraRouters: [intakeEndpoint(this.intake, this.log, this.config)],
    });
  }

  /** Listens on HOST:PORT (port 0: any free port) and resolves with the server. */
  listen(port = this.config.port, host = this.config.host): Promise<Server> {
    const app = this.httpApp();
    return new Promise((resolve, reject) => {
      const server = app.listen(port, host, () => resolve(server));
      server.once('error', reject);
      // A client that keeps a connection open must not hold up a shutdown forever.
      server.keepAliveTimeout = 5000;
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await Promise.all(this.senders.map((sender) => sender.close()));
    await this.pool.end();
  }
}
