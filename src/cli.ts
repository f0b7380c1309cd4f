#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createServer, type Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { Application, ListenError, listenOn, NotReadyError } from './main.js';
import { createAccount } from './services/accounts.js';
import { ApiError } from './domain/errors.js';
import { migrate } from './storage/migrator.js';
import { recentAttempts } from './storage/attemptsStore.js';
import { listDeliveries } from './storage/deliveriesStore.js';
import { messageIdOf } from './domain/signature.js';

const usage = `usage: webhooks <command> [options]

  migrate                          create the database if missing and apply sql/
  serve                            run the HTTP side (SOAP, JSON, pages, intake)
  worker [--once]                  run the delivery loop and scheduled jobs; --once: one pass, then exit
  start                            migrate, then serve and worker in one process (npm start)
  account create --username U --password P --email E [--language de|en]
                                   create an API account; prints its id
  emit --account U --event E --payload '<json>' [--subscriber S] [--occurred-at ISO]
                                   report one event, as the platform would; prints its id
  deliveries --webhook ID [--limit N] [--payloads]
                                   the recent delivery attempts of one webhook; --payloads: its recent
                                   deliveries with their payloads
  erase --account U --subscriber S
                                   erase one subscriber's events, deliveries and attempts (GDPR Art. 17)

Configuration comes from environment variables; see README.md.`;

class UsageError extends Error {}

function option(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

async function run(config: Config, log: Logger, parts: { serve: boolean; worker: boolean }): Promise<void> {
  const app = new Application(config, log);
  // Shutdown in this order: no new requests, then the workers finish what they hold, then the pool.
  const steps: Array<() => Promise<void>> = [];
  try {
    await app.checkReady();
    const worker = parts.worker ? app.createWorker() : undefined;
    if (parts.serve) {
      if (config.directDelivery) app.enableDirectDelivery(worker);
      const server = await app.listen();
      log.info({ address: server.address(), publicUrl: config.publicUrl, directDelivery: config.directDelivery }, 'serving');
      steps.push(() => closeServer(server));
    }
    if (worker) {
      worker.start();
      log.info({ worker: worker.id }, 'delivery worker started');
      if (!parts.serve && config.metricsPort !== undefined) steps.unshift(await serveWorkerMetrics(app, config, log));
    }
  } catch (error) {
    for (const step of steps) await step();
    await app.close();
    throw error;
  }
  steps.push(() => app.close());
  await untilStopped(steps, log);
}

/** A worker-only process has no HTTP side; METRICS_PORT gives its counters one. Returns its shutdown step. */
async function serveWorkerMetrics(app: Application, config: Config, log: Logger): Promise<() => Promise<void>> {
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    app.metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': app.metrics.registry.contentType }).end(body),
      (error: unknown) => {
        log.warn({ err: error }, 'metrics unavailable');
        res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await listenOn(metrics, config.metricsPort!, config.host, 'METRICS_PORT');
  return () => closeServer(metrics);
}

async function workerOnce(config: Config, log: Logger): Promise<void> {
  const app = new Application(config, log);
  try {
    const attempted = await app.createWorker().runOnce();
    log.info({ attempted }, 'worker pass done');
  } finally {
    await app.close();
  }
}

// Requests in progress get this long to finish at shutdown; then their connections are closed.
const shutdownGraceMs = 10_000;

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const cutOff = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
    server.close(() => {
      clearTimeout(cutOff);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Waits for SIGTERM or SIGINT, then runs the shutdown steps in order. A
 * promise that nobody handled (the plan is that there is none) is logged and
 * shuts the process down the same way, with exit code 1.
 */
function untilStopped(steps: Array<() => Promise<void>>, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ reason }, 'shutting down');
      for (const step of steps) {
        await step().catch((error: unknown) => log.error({ err: error }, 'shutdown step failed'));
      }
      resolve();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    process.on('unhandledRejection', (reason) => {
      log.fatal({ err: reason }, 'unhandled promise rejection; shutting down');
      process.exitCode = 1;
      void stop('unhandledRejection');
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  switch (command) {
    case 'migrate': {
      const applied = await migrate(config.databaseUrl);
      console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
      return;
    }
    case 'serve':
      return run(config, log, { serve: true, worker: false });
    case 'worker': {
      const { values } = parseArgs({ args: rest, options: { once: { type: 'boolean' } } });
      return values.once ? workerOnce(config, log) : run(config, log, { serve: false, worker: true });
    }
    case 'start':
      await migrate(config.databaseUrl);
      return run(config, log, { serve: true, worker: true });
    case 'emit': {
      const { values } = parseArgs({
        args: rest,
        options: { account: { type: 'string' }, event: { type: 'string' }, payload: { type: 'string' }, subscriber: { type: 'string' }, 'occurred-at': { type: 'string' } },
      });
      const app = new Application(config, log);
      try {
        const [accepted] = await app.intake.accept([
          { account: option(values, 'account'), event: option(values, 'event'), payload: option(values, 'payload'), subscriber: values.subscriber, occurredAt: values['occurred-at'] },
        ]);
        console.log(`event ${accepted!.id} stored, ${accepted!.deliveries} deliveries`);
      } finally {
        await app.close();
      }
      return;
    }
    case 'deliveries': {
      const { values } = parseArgs({ args: rest, options: { webhook: { type: 'string' }, limit: { type: 'string' }, payloads: { type: 'boolean' } } });
      const webhookId = Number(option(values, 'webhook'));
      const limit = Number(values.limit ?? 20);
      if (!Number.isInteger(webhookId) || webhookId < 1) throw new UsageError('--webhook must be a webhook id');
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
      const app = new Application(config, log);
      try {
        if (values.payloads) {
          const deliveries = await listDeliveries(app.pool, webhookId, { limit, withPayload: true });
          if (deliveries.length === 0) console.log(`no deliveries kept for webhook ${webhookId}`);
          for (const d of deliveries) {
            console.log(`${d.occurredAt.toISOString()}  delivery ${d.id} (${messageIdOf(d.id)})  ${d.event}  ${d.status}, ${d.attempts} attempts`);
            console.log(`  ${d.payload ?? '(payload no longer kept)'}`);
          }
          return;
        }
        const attempts = await recentAttempts(app.pool, webhookId, limit);
        if (attempts.length === 0) console.log(`no attempts recorded for webhook ${webhookId}`);
        for (const a of attempts) {
          const result = a.succeeded ? 'ok' : `failed (${a.failureClass}): ${a.error}`;
          console.log(`${a.attemptedAt.toISOString()}  delivery ${a.deliveryId}  ${a.statusCode ?? '---'}  ${a.durationMs} ms  ${result}`);
        }
      } finally {
        await app.close();
      }
      return;
    }
    case 'erase': {
      const { values } = parseArgs({ args: rest, options: { account: { type: 'string' }, subscriber: { type: 'string' } } });
      const app = new Application(config, log);
      try {
        const erased = await app.erasure.erase({ account: option(values, 'account'), subscriber: option(values, 'subscriber') });
        console.log(
          `erased ${erased.events} events, ${erased.deliveries} deliveries (${erased.unsentDeliveries} not yet sent, now never), ` +
            `${erased.attempts} attempts, ${erased.outboxRows} outbox rows; ${erased.scrubbedTexts} stored answer texts scrubbed`,
        );
      } finally {
        await app.close();
      }
      return;
    }
    case 'account': {
      const { positionals, values } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { username: { type: 'string' }, password: { type: 'string' }, email: { type: 'string' }, language: { type: 'string' } },
      });
      if (positionals[0] !== 'create') throw new UsageError('the account command is: account create --username U --password P --email E');
      const app = new Application(config, log);
      try {
        const id = await createAccount(app.pool, app.clock, {
          username: option(values, 'username'),
          password: option(values, 'password'),
          email: option(values, 'email'),
          language: values.language ?? 'de',
        });
        console.log(id);
      } finally {
        await app.close();
      }
      return;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`webhooks: ${error.message}\n\n${usage}`);
  else if (error instanceof ConfigError || error instanceof ApiError || error instanceof NotReadyError || error instanceof ListenError) console.error(`webhooks: ${error.message}`);
  else if (error instanceof Error && 'code' in error && typeof error.code === 'string' && /^(ECONNREFUSED|ER_|ENOTFOUND|PROTOCOL)/.test(error.code)) {
    console.error(`webhooks: database: ${error.message} (check DATABASE_URL)`);
  } else console.error(error);
  process.exitCode = 1;
});
