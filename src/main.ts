import { createServer, type Server } from 'node:http';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { Authenticator } from './services/authenticator.js';
import { WebhookService } from './services/webhookService.js';
import { Webservice } from './services/webservice.js';
import { EventIntake } from './services/eventIntake.js';
import { DeliveryWorker, newWorkerId, type WorkerMode } from './services/deliveryWorker.js';
import { Housekeeping } from './services/housekeeping.js';
import { WebhookSender } from './transports/outbound/webhookSender.js';
import { mailRenderer } from './transports/mail/mailRenderer.js';
import { createHostResolver } from './transports/outbound/hostResolver.js';
import { JobSchedule } from './services/jobSchedule.js';
import type { Mailer, ResolveHost, Sender } from './services/ports.js';
import { intakeEndpoint } from './transports/http/intakeEndpoint.js';
import { portalPages } from './transports/http/portalPages.js';
import { accountsEndpoint } from './transports/http/accountsEndpoint.js';
import { AccountService } from './services/accounts.js';
import { PortalAccess } from './services/portal.js';
import { SubscriberErasure } from './services/subscriberErasure.js';
import { RestHooks } from './services/restHooks.js';
import { zapierEndpoint } from './transports/http/zapierEndpoint.js';
import { reactivationPage } from './transports/http/reactivationPage.js';
import { webservicedemo } from './transports/http/webservicedemo/demoPage.js';
import { NoMailServer, SmtpMailer } from './transports/mail/mailer.js';
import { NotificationService } from './services/notificationService.js';
import { ReactivationService, TestLinkService } from './services/reactivation.js';
import { loadTokenKey } from './services/tokenKey.js';
import { createPool, type Pool, type RowDataPacket } from './storage/database.js';
import { pendingMigrations } from './storage/migrator.js';
import { createHttpApp } from './transports/http/app.js';
import { loadWsdl } from './transports/soap/wsdl.js';
import { Metrics } from './metrics.js';
import { claimMetricsReporter } from './storage/settingsStore.js';
import { queueStats } from './storage/statsStore.js';

export interface Dependencies {
  clock?: Clock;
  resolveHost?: ResolveHost;
  /** The senders' DNS (c-ares by default). */
  senderResolveHost?: ResolveHost;
  sender?: Sender;
  mailer?: Mailer;
}

export class NotReadyError extends Error {}

/** A server that could not listen, with a message that says what to change. */
export class ListenError extends Error {}

/**
 * Listens, or rejects with one line that says why. (Express 5's app.listen
 * hands a listen error to its callback as if it were success: a second
 * process on a busy port would report "serving" and serve nothing.)
 */
export function listenOn(server: Server, port: number, host: string, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : error.message;
      reject(new ListenError(`cannot listen on ${host}:${port}: ${why}; set ${setting}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** The composition root: every service wired once, for the CLI and for tests alike. */
export class Application {
  readonly pool: Pool;
  readonly clock: Clock;
  readonly authenticator: Authenticator;
  readonly webhooks: WebhookService;
  readonly webservice: Webservice;
  readonly intake: EventIntake;
  readonly erasure: SubscriberErasure;
  readonly accounts: AccountService;
  readonly portal: PortalAccess;
  readonly reactivation: ReactivationService;
  readonly testLinks: TestLinkService;
  readonly metrics: Metrics;
  private tokenKeyPromise: Promise<Buffer> | undefined;
  private mailer: Mailer | undefined;
  private readonly workers: DeliveryWorker[] = [];
  private readonly senders: Sender[] = [];
  private readonly resolveHost: ResolveHost;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly dependencies: Dependencies = {},
  ) {
    this.clock = dependencies.clock ?? systemClock;
    this.pool = createPool(config.databaseUrl, 20);
    this.metrics = new Metrics({
      // A table of ours, not `select 1`: a node that answers but cannot serve our data (no primary component, the schema gone) is not usable.
      ping: async () => void (await this.pool.query('select 1 from settings limit 1')),
      claimReporter: (processId, leaseMs) => claimMetricsReporter(this.pool, processId, this.clock.now(), leaseMs),
      read: () => queueStats(this.pool, this.clock.now()),
    });
    this.authenticator = new Authenticator(this.pool, this.clock, config);
    // Work made in this process wakes this process's worker at once; other
    // processes' workers find it at their next poll.
    const wakeWorkers = () => this.workers.forEach((worker) => worker.notify());
    this.resolveHost = dependencies.resolveHost ?? createHostResolver(Math.min(config.deliveryTimeoutMs, 5000));
    // Test requests (TestWebHook, the test pages) go through a sender of their own, with the deliveries' policy and deadline.
    const testSender = this.newSender();
    this.webhooks = new WebhookService(this.pool, this.clock, config, this.resolveHost, testSender, wakeWorkers);
    this.portal = new PortalAccess(this.pool, this.clock, config);
    this.webservice = new Webservice(this.authenticator, this.webhooks, this.portal);
    this.intake = new EventIntake(this.pool, this.clock, config, wakeWorkers);
    this.erasure = new SubscriberErasure(this.pool);
    this.accounts = new AccountService(this.pool, this.clock, (accountId) => this.authenticator.forget(accountId));
    this.reactivation = new ReactivationService(this.pool, this.clock, this.webhooks, () => this.tokenKey(), config.bufferDays);
    this.testLinks = new TestLinkService(this.pool, this.clock, this.webhooks, () => this.tokenKey());
  }

  /** The key for the links in e-mails (reactivation, test), read (or made) once per process. */
  tokenKey(): Promise<Buffer> {
    this.tokenKeyPromise ??= loadTokenKey(this.pool, this.config.tokenSecret).catch((error: unknown) => {
      this.tokenKeyPromise = undefined;
      throw error;
    });
    return this.tokenKeyPromise;
  }

  private notificationMailer(): Mailer {
    this.mailer ??= this.dependencies.mailer ?? (this.config.smtpUrl ? new SmtpMailer(this.config.smtpUrl, this.config.mailFrom) : new NoMailServer());
    return this.mailer;
  }

  private newSender(): Sender {
    if (this.dependencies.sender) return this.dependencies.sender;
    const sender = new WebhookSender({
      timeoutMs: this.config.deliveryTimeoutMs,
      allowPrivateTargets: this.config.allowPrivateTargets,
      excerptBytes: this.config.responseExcerptBytes,
      resolveHost: this.dependencies.senderResolveHost,
    });
    this.senders.push(sender);
    return sender;
  }

  /**
   * A delivery worker with its background jobs; start() it, or runOnce() for
   * cron. A dispatcher has neither a claim loop nor jobs: it sends what intake
   * leases to it (see enableDirectDelivery).
   */
  createWorker(id?: string, mode: WorkerMode = 'worker'): DeliveryWorker {
    const sender = this.newSender();
    const workerId = id ?? newWorkerId();
    const jobs = mode === 'worker'
      ? new JobSchedule([
        { name: 'outbox', intervalMs: this.config.pollIntervalMs, run: () => this.intake.drainOutbox() },
        new NotificationService(this.pool, this.clock, this.notificationMailer(), mailRenderer, () => this.tokenKey(), this.log, this.metrics, this.config, workerId),
        new Housekeeping(this.pool, this.clock, this.config),
      ], this.log)
      : undefined;
    const worker = new DeliveryWorker(this.pool, this.clock, sender, this.log, this.metrics, this.config, jobs, workerId, mode);
    this.workers.push(worker);
    return worker;
  }

  /**
   * Accepted events' first attempts leave from this process right after the
   * intake's commit, under leases taken in that transaction: by `worker`, or
   * by a dispatcher made for the purpose (a process that only serves).
   * Returns the worker, started.
   */
  enableDirectDelivery(worker?: DeliveryWorker): DeliveryWorker {
    const dispatcher = worker ?? this.createWorker(undefined, 'dispatcher');
    dispatcher.start();
    this.intake.deliverDirectly(dispatcher);
    return dispatcher;
  }

  /** The database answers and has every migration this code expects. */
  async checkReady(): Promise<void> {
    let pending: string[];
    try {
      pending = await pendingMigrations(async (sql) => {
        const [rows] = await this.pool.query<RowDataPacket[]>(sql);
        return rows.map((row) => String(row.version));
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') throw new NotReadyError('the database is not set up: run webhooks migrate');
      throw new NotReadyError(`the database at DATABASE_URL does not answer (${(error as Error).message})`);
    }
    if (pending.length > 0) throw new NotReadyError(`migrations not applied: ${pending.join(', ')}; run webhooks migrate`);
  }

  httpApp() {
    const wsdl = loadWsdl(this.config.publicUrl);
    return createHttpApp(this.webservice, this.log, {
      wsdl,
      observer: this.metrics,
      metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.text() }),
      maxCallBytes: this.config.maxCallBytes,
      trustProxy: this.config.trustProxy,
      checkReady: () => this.checkReady(),
      extraRouters: [
        intakeEndpoint(this.intake, this.erasure, this.log, this.metrics, this.config),
        accountsEndpoint(this.accounts, this.log, this.config),
        zapierEndpoint(this.authenticator, new RestHooks(this.pool, this.webhooks), this.log),
        reactivationPage(this.reactivation, this.testLinks, this.log, { timeoutSeconds: Math.round(this.config.deliveryTimeoutMs / 1000) }),
        webservicedemo(this.webservice, this.log, this.metrics, { wsdl, publicUrl: this.config.publicUrl }),
        portalPages(this.portal, this.webhooks, this.pool, this.log, {
          publicUrl: this.config.publicUrl,
          frameAncestors: this.config.portalFrameAncestors,
          timeoutSeconds: Math.round(this.config.deliveryTimeoutMs / 1000),
        }),
      ],
    });
  }

  /** Listens on HOST:PORT (port 0: any free port) and resolves with the server; a port in use rejects with a ListenError. */
  async listen(port = this.config.port, host = this.config.host): Promise<Server> {
    const server = createServer(this.httpApp());
    // A client that keeps a connection open must not hold up a shutdown forever.
    server.keepAliveTimeout = 5000;
    await listenOn(server, port, host, 'PORT and HOST');
    return server;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await Promise.all(this.senders.map((sender) => sender.close()));
    this.mailer?.abort();
    await this.pool.end();
  }
}
