// Child process for the benchmarks: `service <databaseUrl>` runs the real HTTP
// side on a free port, `start <databaseUrl>` serve and worker together, `bare`
// an express route answering a constant string, `receiver` a webhook receiver
// answering 204, `hostile` misbehaving receivers. Prints the port on stdout
// once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { Application } from '../src/main.js';
import { createPool } from '../src/storage/database.js';
import { HostileReceiver } from '../test/helpers/hostileReceiver.js';

const [kind, databaseUrl] = process.argv.slice(2);

if (kind === 'bare' || kind === 'bare-db') {
  const app = express();
  const pool = kind === 'bare-db' ? createPool(databaseUrl!, 20) : undefined;
  app.post('/bare', async (_req, res) => {
    if (pool) await pool.query('select 1');
    res.type('text/xml').send('<ok/>');
  });
  const server = app.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else if (kind === 'receiver') {
  // A webhook receiver that answers 204 at once.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else if (kind === 'hostile') {
  // Misbehaving receivers, the kind taken from the path: /trickle/…, /flood102/…, /blackHole/…, /slowAnswer/…
  const hostile = await new HostileReceiver('byPath').start();
  console.log(new URL(hostile.url()).port);
} else if (kind === 'start') {
  // serve and worker in one process, as npm start runs them; of a previous release when BENCH_RELEASE_DIR names its checkout.
  const release = process.env.BENCH_RELEASE_DIR;
  const load = (file: string) => import(path.join(release!, 'src', file));
  const [main, configuration, logging] = release ? await Promise.all([load('main.ts'), load('config.ts'), load('logger.ts')]) : [{ Application }, { loadConfig }, { createLogger }];
  const config = configuration.loadConfig({ ...process.env, DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'warn' });
  const app = new main.Application(config, logging.createLogger('warn'));
  const server = await app.listen(0, '127.0.0.1');
  app.createWorker().start();
  console.log((server.address() as AddressInfo).port);
} else {
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'warn' });
  const app = new Application(config, createLogger('warn'));
  const server = await app.listen(0, '127.0.0.1');
  console.log((server.address() as AddressInfo).port);
}

// Exit cleanly on a signal, so that --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
