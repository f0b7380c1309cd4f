import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './ports.js';

/** A MariaDB Galera cluster on this machine: three mariadbd processes with their own data, ports and state transfers. */
export interface GaleraCluster {
  ports: number[];
  /** mysql://root@127.0.0.1:p1,127.0.0.1:p2,… in the order given (node indexes, 0-based). */
  url(database: string, order?: number[]): string;
  kill(node: number): void;
  /** Starts a killed node again; with fullTransfer its state is thrown away, so it joins by a full state transfer (SST) from a donor. */
  start(node: number, options?: { fullTransfer?: boolean }): Promise<void>;
  /** A connection to a node as root, for what a test does by hand (desync, read locks). */
  connect(node: number): Promise<mysql.Connection>;
  /** Cuts a node off the others: it stays up, answers `select 1`, and 1047 to every table (no primary component). */
  isolate(node: number, isolated: boolean): Promise<void>;
  state(node: number): Promise<string>;
  stop(): Promise<void>;
}

const provider = '/usr/lib/galera/libgalera_smm.so';

/**
 * Starts three nodes (the first bootstraps the cluster, the others join by a
 * state transfer: rsync unless told mariabackup) and resolves when all three are synced. The nodes run
 * as the `mysql` user, as a packaged server does (rsync's daemon would switch
 * to `nobody` under root).
 */
export async function startGalera(options: { stateTransfer?: 'rsync' | 'mariabackup' } = {}): Promise<GaleraCluster> {
  const stateTransfer = options.stateTransfer ?? 'rsync';
  const base = mkdtempSync(path.join(tmpdir(), 'galera-'));
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const gcomm = await Promise.all([0, 1, 2].map(() => freePort()));
  const ist = await Promise.all([0, 1, 2].map(() => freePort()));
  const sst = await Promise.all([0, 1, 2].map(() => freePort()));
  const processes: Array<ChildProcess | undefined> = [];
  const dir = (node: number) => path.join(base, `n${node}`);
  const { uid, gid } = mysqlUser();
  chmodSync(base, 0o755);
  for (const node of [0, 1, 2]) mkdirSync(dir(node));
  for (const target of [base, dir(0), dir(1), dir(2)]) chownSync(target, uid, gid);
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${dir(0)}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=mysql'], { stdio: 'ignore' });

  const launch = (node: number, bootstrap: boolean) => {
    processes[node] = spawn('mariadbd', [
      '--no-defaults', '--user=mysql', `--datadir=${dir(node)}`, `--socket=${dir(node)}.sock`, `--port=${ports[node]}`, '--bind-address=127.0.0.1',
      `--pid-file=${dir(node)}.pid`, `--log-error=${dir(node)}.err`, '--binlog-format=ROW', '--innodb-autoinc-lock-mode=2',
      // mariadb-backup, which the mariabackup transfer runs with the server's options, refuses this one.
      ...(stateTransfer === 'rsync' ? ['--innodb-buffer-pool-size=32M'] : []),
      '--innodb-flush-log-at-trx-commit=2', '--max-connections=300',
      '--wsrep-on=ON', `--wsrep-provider=${provider}`, '--wsrep-cluster-name=webhooks-test',
      `--wsrep-cluster-address=gcomm://${gcomm.map((p) => `127.0.0.1:${p}`).join(',')}`, `--wsrep-node-address=127.0.0.1:${gcomm[node]}`, `--wsrep-node-name=n${node}`,
      `--wsrep-provider-options=base_port=${gcomm[node]};ist.recv_addr=127.0.0.1:${ist[node]};evs.suspect_timeout=PT3S;evs.inactive_timeout=PT5S`,
      `--wsrep-sst-method=${stateTransfer}`, `--wsrep-sst-receive-address=127.0.0.1:${sst[node]}`,
      // mariabackup reads the donor through a client connection: root, whose password is empty here.
      ...(stateTransfer === 'mariabackup' ? ['--wsrep-sst-auth=root:'] : []),
      ...(bootstrap ? ['--wsrep-new-cluster'] : []),
    ], { stdio: 'ignore' });
  };

  const state = async (node: number): Promise<string> => {
    let connection: mysql.Connection | undefined;
    try {
      connection = await mysql.createConnection({ host: '127.0.0.1', port: ports[node], user: 'root', connectTimeout: 1000 });
      const [rows] = await connection.query<mysql.RowDataPacket[]>("show global status where variable_name in ('wsrep_local_state_comment', 'wsrep_cluster_status')");
      return rows.map((row) => String(row.Value)).sort().join(' ');
    } catch {
      return 'down';
    } finally {
      await connection?.end().catch(() => undefined);
    }
  };
  const until = async (node: number, wanted: (state: string) => boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000;
    let last = '';
    while (!wanted((last = await state(node)))) {
      if (Date.now() > deadline) throw new Error(`galera node ${node} is "${last}", not ready after ${seconds} s; see ${dir(node)}.err`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const synced = (s: string) => s === 'Primary Synced';

  launch(0, true);
  await until(0, synced, 60);
  // One joiner at a time: the donor sends one state transfer at once.
  launch(1, false);
  await until(1, synced, 120);
  launch(2, false);
  await until(2, synced, 120);

  return {
    ports,
    url: (database, order = [0, 1, 2]) => `mysql://root@${order.map((node) => `127.0.0.1:${ports[node]}`).join(',')}/${database}`,
    kill(node) {
      processes[node]?.kill('SIGKILL');
      processes[node] = undefined;
    },
    async start(node, options = {}) {
      if (options.fullTransfer) rmSync(path.join(dir(node), 'grastate.dat'), { force: true });
      launch(node, false);
      await until(node, synced, 120);
    },
    async isolate(node, isolated) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: ports[node], user: 'root' });
      try {
        await connection.query(`set global wsrep_provider_options = 'gmcast.isolate=${isolated ? 1 : 0}'`);
      } finally {
        await connection.end();
      }
      await until(node, isolated ? (s) => !s.startsWith('Primary') : synced, 60);
    },
    state,
    connect: (node) => mysql.createConnection({ host: '127.0.0.1', port: ports[node], user: 'root' }),
    async stop() {
      for (const child of processes) child?.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 500));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The `mysql` user a packaged server runs as. */
export function mysqlUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'mysql']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'mysql']).toString().trim());
  return { uid, gid };
}
