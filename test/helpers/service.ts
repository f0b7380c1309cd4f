import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, type Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/logger.js';
import { Application } from '../../src/main.js';
import { createAccount } from '../../src/services/accounts.js';
import type { ResolveHost } from '../../src/services/ports.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface RunningService {
  app: Application;
  server: Server;
  baseUrl: string;
  database: TestDatabase;
  config: Config;
  /** Another process on the same database (the service's settings, then `overrides`), closed by stop(). */
  anotherProcess(overrides?: Record<string, string>): Application;
  stop(): Promise<void>;
}

/** Hosts the tests use in URLs: public ones resolve to a documentation-free public address. */
export const testResolver: ResolveHost = async (host) => {
  if (host === 'localhost') return ['127.0.0.1'];
  if (host.endsWith('.internal')) return ['10.0.0.5'];
  if (host.endsWith('.invalid')) return [];
  return ['93.184.215.14'];
};

/** The whole service in-process on port 0, on a fresh database. */
export async function startService(
  env: Record<string, string> = {},
  dependencies: { clock?: Clock; resolveHost?: ResolveHost; senderResolveHost?: ResolveHost; log?: Logger } = {},
): Promise<RunningService> {
  const database = await createTestDatabase();
  // Listen first, so that PUBLIC_URL (the WSDL's address) names the real port.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({ DATABASE_URL: database.url, PUBLIC_URL: baseUrl, ...env });
  const app = new Application(config, dependencies.log ?? silentLogger, { resolveHost: testResolver, ...dependencies });
  server.on('request', app.httpApp());
  const others: Application[] = [];
  return {
    app,
    server,
    baseUrl,
    database,
    config,
    anotherProcess(overrides = {}) {
      const other = new Application(loadConfig({ DATABASE_URL: database.url, ...env, ...overrides }), silentLogger);
      others.push(other);
      return other;
    },
    async stop() {
      await Promise.all(others.splice(0).map((other) => other.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await database.drop();
    },
  };
}

let accountCounter = 0;
export interface TestAccount {
  id: number;
  username: string;
  password: string;
}

export async function makeAccount(
  service: RunningService,
  overrides: Partial<{ username: string; password: string; email: string; language: string }> = {},
): Promise<TestAccount> {
  accountCounter += 1;
  const username = overrides.username ?? `customer${accountCounter}`;
  const password = overrides.password ?? `pass-${accountCounter}-word`;
  const id = await createAccount(service.app.pool, service.app.clock, {
    username,
    password,
    email: overrides.email ?? `${username}@example.com`,
    language: overrides.language ?? 'en',
  });
  return { id, username, password };
}

export { ManualClock };

/** A logger at info level whose JSON lines the test can read. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('info', { write: (line: string) => void lines.push(line) }), lines };
}
