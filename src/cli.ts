#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { Application } from './main.js';
import { createAccount } from './services/accounts.js';
import { ApiError } from './domain/errors.js';
import { migrate } from './storage/migrator.js';

const usage = `usage: webhooks <command> [options]

  migrate                          create the database if missing and apply sql/
  serve                            run the HTTP side (SOAP, JSON, pages, intake)
  start                            migrate, then serve in one process (npm start)
  account create --username U --password P --email E [--language de|en]
                                   create an API account; prints its id

Configuration comes from environment variables; see README.md.`;

class UsageError extends Error {}

function option(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

async function serve(config: Config, log: Logger): Promise<void> {
  const app = new Application(config, log);
  const server = await app.listen();
  const address = server.address();
  log.info({ address, publicUrl: config.publicUrl }, 'serving');
  await untilStopped([() => closeServer(server), () => app.close()], log);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Waits for SIGTERM or SIGINT, then runs the shutdown steps in order. */
function untilStopped(steps: Array<() => Promise<void>>, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = async (signal: string) => {
      log.info({ signal }, 'shutting down');
      for (const step of steps) await step();
      resolve();
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
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
      return serve(config, log);
    case 'start':
      await migrate(config.databaseUrl);
      return serve(config, log);
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
  else if (error instanceof ConfigError || error instanceof ApiError) console.error(`webhooks: ${error.message}`);
  else if (error instanceof Error && 'code' in error && typeof error.code === 'string' && /^(ECONNREFUSED|ER_|ENOTFOUND|PROTOCOL)/.test(error.code)) {
    console.error(`webhooks: database: ${error.message} (check DATABASE_URL)`);
  } else console.error(error);
  process.exitCode = 1;
});
