import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { mysqlUser } from './galera.js';
import { freePort } from './ports.js';

/** A MariaDB server of a test's own (its data directory, its port), which the test may stop and start. */
export interface PrivateMariadb {
  port: number;
  url(database: string): string;
  /** SIGKILL, as a crash or a pulled cable. */
  kill(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  const base = mkdtempSync(path.join(tmpdir(), 'mariadb-'));
  chmodSync(base, 0o755);
  const dataDir = path.join(base, 'data');
  const { uid, gid } = mysqlUser();
  chownSync(base, uid, gid);
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=mysql'], { stdio: 'ignore' });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('mariadbd', [
      '--no-defaults', '--user=mysql', `--datadir=${dataDir}`, `--socket=${path.join(base, 'mariadb.sock')}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--pid-file=${path.join(base, 'mariadb.pid')}`, `--log-error=${path.join(base, 'mariadb.err')}`, '--innodb-buffer-pool-size=32M', '--innodb-flush-log-at-trx-commit=2',
    ], { stdio: 'ignore' });
    for (let i = 0; i < 240; i += 1) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 500 }).catch(() => undefined);
      if (connection) return void (await connection.end());
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the private MariaDB did not start; see ${path.join(base, 'mariadb.err')}`);
  };
  await start();
  return {
    port,
    url: (database) => `mysql://root@127.0.0.1:${port}/${database}`,
    kill() {
      child?.kill('SIGKILL');
      child = undefined;
    },
    start,
    async stop() {
      child?.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 300));
      rmSync(base, { recursive: true, force: true });
    },
  };
}
