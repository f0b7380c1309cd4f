#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { Application, ListenError, listenOn, NotReadyError } from './main.js';
import { createAccount } from './services/accounts.js';
import { ApiError } from './domain/errors.js';
import { migrate } from './storage/migrator.js';
import { recentAttempts } from './storage/attemptsStore.js';
import { listNotifications } from './storage/notificationsStore.js';
import { listDeliveries } from './storage/deliveriesStore.js';
import { messageIdOf } from './domain/signature.js';

/** Each command's usage lines; a mistyped or missing option answers with the line of its command. */
const commands = {
  migrate: '  migrate                          create the database if missing and apply sql/',
  serve: '  serve                            run the HTTP side (SOAP, JSON, pages, intake)',
  worker: '  worker [--once]                  run the delivery loop and scheduled jobs; --once: one pass, then exit',
  start: '  start                            migrate, then serve and worker in one process (npm start)',
  account: `  account create --username U --email E [--language de|en] (--password-stdin | --password P)
                                   create an API account; prints its id
  account set --username U [--email E] [--language de|en] [--password-stdin | --password P]
                                   change an account: only what is given
  account delete --username U      close an account: its webhooks and everything stored for it are erased
  account list                     the accounts, without secrets
                                   --password-stdin reads the password from standard input (one line):
                                   on the command line, ps and the shell history would keep it`,
  emit: `  emit --account U --event E --payload '<json>' [--subscriber S] [--occurred-at ISO] [--id ID]
                                   report one event, as the platform would; prints its id. --id: the
                                   platform's own id for it; the same id again stores nothing new`,
  deliveries: `  deliveries --webhook ID [--limit N] [--payloads]
                                   the recent delivery attempts of one webhook; --payloads: its recent
                                   deliveries with their payloads`,
  notifications: `  notifications (--webhook ID | --account U) [--limit N]
                                   the notification e-mails of a webhook or an account, newest first, with
                                   their text (what a customer got, or would have got without SMTP_URL)`,
  erase: `  erase --account U --subscriber S
                                   erase one subscriber's events, deliveries and attempts (GDPR Art. 17)`,
};
type Command = keyof typeof commands;

const usage = `usage: webhooks <command> [options]

${Object.values(commands).join('\n')}
  --version                        print the version

Configuration comes from environment variables; see README.md.`;

/** A command used wrongly: one line, then that command's usage; exit code 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

function option(values: Record<string, unknown>, name: string, command: Command): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`, command);
  return value;
}

/** node's parseArgs, strict, with its errors as one readable line and the command's usage. */
function parse<T extends ParseArgsConfig['options']>(command: Command, args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw error;
    const name = /'(-[^' ]+)/.exec((error as Error).message)?.[1] ?? '';
    const message = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${name}`
      : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${name} needs a value`
      : code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ? `unexpected argument ${/'([^']+)'/.exec((error as Error).message)?.[1] ?? ''}`
      : (error as Error).message.split('\n')[0]!;
    throw new UsageError(message, command);
  }
}

/** The password of `account create` and `account set`: standard input (one line) or --password. */
async function passwordOf(values: { password?: string; 'password-stdin'?: boolean }): Promise<string | undefined> {
  if (values['password-stdin'] && values.password !== undefined) throw new UsageError('give --password-stdin or --password, not both', 'account');
  if (!values['password-stdin']) return values.password;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
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
    app.metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': app.metrics.contentType }).end(body),
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
  if (command === '--version') {
    const manifest = JSON.parse(readFileSync(new URL(import.meta.url.includes('/dist/') ? '../../package.json' : '../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(manifest.version);
    return;
  }
  if (!(command in commands)) throw new UsageError(`unknown command '${command}'`);
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  switch (command) {
    case 'migrate': {
      parse('migrate', rest, {});
      const applied = await migrate(config.databaseUrl);
      console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
      return;
    }
    case 'serve':
      parse('serve', rest, {});
      return run(config, log, { serve: true, worker: false });
    case 'worker': {
      const { values } = parse('worker', rest, { once: { type: 'boolean' } });
      return values.once ? workerOnce(config, log) : run(config, log, { serve: false, worker: true });
    }
    case 'start':
      parse('start', rest, {});
      await migrate(config.databaseUrl);
      return run(config, log, { serve: true, worker: true });
    case 'emit': {
      const { values } = parse('emit', rest, {
        account: { type: 'string' }, event: { type: 'string' }, payload: { type: 'string' }, subscriber: { type: 'string' }, 'occurred-at': { type: 'string' }, id: { type: 'string' },
      });
      const event = { account: option(values, 'account', 'emit'), event: option(values, 'event', 'emit'), payload: option(values, 'payload', 'emit') };
      const app = new Application(config, log);
      try {
        const [accepted] = await app.intake.accept([{ ...event, subscriber: values.subscriber, occurredAt: values['occurred-at'], id: values.id }]);
        console.log(accepted!.duplicate ? `event ${accepted!.id} was stored before under this id: nothing new` : `event ${accepted!.id} stored, ${accepted!.deliveries} deliveries`);
      } finally {
        await app.close();
      }
      return;
    }
    case 'deliveries': {
      const { values } = parse('deliveries', rest, { webhook: { type: 'string' }, limit: { type: 'string' }, payloads: { type: 'boolean' } });
      const webhookId = Number(option(values, 'webhook', 'deliveries'));
      const limit = Number(values.limit ?? 20);
      if (!Number.isInteger(webhookId) || webhookId < 1) throw new UsageError('--webhook must be a webhook id', 'deliveries');
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number', 'deliveries');
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
    case 'notifications': {
      const { values } = parse('notifications', rest, { webhook: { type: 'string' }, account: { type: 'string' }, limit: { type: 'string' } });
      if ((values.webhook === undefined) === (values.account === undefined)) throw new UsageError('give --webhook or --account', 'notifications');
      const webhookId = Number(values.webhook);
      const limit = Number(values.limit ?? 10);
      if (values.webhook !== undefined && (!Number.isInteger(webhookId) || webhookId < 1)) throw new UsageError('--webhook must be a webhook id', 'notifications');
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number', 'notifications');
      const app = new Application(config, log);
      try {
        const of = values.account !== undefined ? { username: values.account } : { webhookId };
        const notifications = await listNotifications(app.pool, of, limit);
        if (notifications.length === 0) console.log(`no notifications for ${values.account !== undefined ? `account ${values.account}` : `webhook ${webhookId}`}`);
        for (const n of notifications) {
          const state = n.status === 'stored' ? 'stored, not sent (SMTP_URL is not set)' : n.status === 'sent' ? `sent ${n.sentAt!.toISOString()}` : 'pending';
          console.log(`notification ${n.id}  webhook ${n.webhookId}  ${n.kind}  ${n.createdAt.toISOString()}  ${state}`);
          if (n.subject !== null) console.log(`Subject: ${n.subject}\n\n${n.text ?? ''}\n`);
        }
      } finally {
        await app.close();
      }
      return;
    }
    case 'erase': {
      const { values } = parse('erase', rest, { account: { type: 'string' }, subscriber: { type: 'string' } });
      const subject = { account: option(values, 'account', 'erase'), subscriber: option(values, 'subscriber', 'erase') };
      const app = new Application(config, log);
      try {
        const erased = await app.erasure.erase(subject);
        console.log(
          `erased ${erased.events} events, ${erased.deliveries} deliveries (${erased.unsentDeliveries} not yet sent, now never), ` +
            `${erased.attempts} attempts, ${erased.outboxRows} outbox rows; ${erased.scrubbedTexts} stored answer texts scrubbed`,
        );
      } finally {
        await app.close();
      }
      return;
    }
    case 'account':
      return account(config, log, rest);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** account create | set | delete | list */
async function account(config: Config, log: Logger, args: string[]): Promise<void> {
  const { positionals, values } = parse('account', args, {
    username: { type: 'string' }, email: { type: 'string' }, language: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' },
  }, true);
  const [action, ...extra] = positionals;
  if (!action || !['create', 'set', 'delete', 'list'].includes(action)) throw new UsageError(action ? `unknown account command '${action}'` : 'account needs create, set, delete or list', 'account');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`, 'account');
  const username = action === 'list' ? '' : option(values, 'username', 'account');
  const password = action === 'create' || action === 'set' ? await passwordOf(values) : undefined;
  if (action === 'create' && password === undefined) throw new UsageError('--password-stdin or --password is required', 'account');
  const app = new Application(config, log);
  try {
    switch (action) {
      case 'create':
        console.log(await createAccount(app.pool, app.clock, { username, password: password!, email: option(values, 'email', 'account'), language: values.language ?? 'de' }));
        return;
      case 'set': {
        const { account: changed } = await app.accounts.put(username, { password, email: values.email, language: values.language });
        console.log(`${changed.username}: ${changed.email}, ${changed.language}, ${changed.webhooks} webhooks`);
        return;
      }
      case 'delete': {
        const closed = await app.accounts.close(username);
        console.log(
          `closed ${username}: ${closed.webhooks} webhooks, ${closed.events} events, ${closed.deliveries} deliveries, ${closed.attempts} attempts, ` +
            `${closed.outboxRows} outbox rows, ${closed.notifications} notifications, ${closed.throttlingRows} throttling rows erased`,
        );
        return;
      }
      case 'list':
        for (const a of await app.accounts.list()) console.log(`${a.username}\t${a.email}\t${a.language}\t${a.webhooks} webhooks\tsince ${a.createdAt.toISOString()}`);
        return;
    }
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`webhooks: ${error.command ? `${error.command}: ` : ''}${error.message}\n\n${error.command ? `usage: webhooks ${error.command} [options]\n\n${commands[error.command]}` : usage}`);
    process.exitCode = 2;
    return;
  }
  if (error instanceof ConfigError || error instanceof ApiError || error instanceof NotReadyError || error instanceof ListenError) console.error(`webhooks: ${error.message}`);
  else if (error instanceof Error && 'code' in error && typeof error.code === 'string' && /^(ECONNREFUSED|ER_|ENOTFOUND|PROTOCOL)/.test(error.code)) {
    console.error(`webhooks: database: ${error.message} (check DATABASE_URL)`);
  } else console.error(error);
  process.exitCode = 1;
});
