import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { FailoverPool, type DatabaseNode } from './nodeFailover.js';

export type { Pool, PoolConnection, ResultSetHeader, RowDataPacket };

/** A pool or a connection inside a transaction: stores accept either. */
export type Queryable = Pool | PoolConnection;

export interface DatabaseTarget {
  /** The options of the first node; with several nodes, `nodes` lists them all in order. */
  connection: mysql.ConnectionOptions;
  database: string;
  nodes: DatabaseNode[];
}

// mysql://user:password@h1:3306,h2:3306,h3:3306/db: the WHATWG URL parser takes
// one host, so the list is read here and the URL parsed with its first host.
const hostList = /^(mysql:\/\/(?:[^@/]*@)?)([^/?#]+)(.*)$/;

/** Splits DATABASE_URL into server options, the database name, and the list of nodes. */
export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  const [, scheme = '', hosts = '', rest = ''] = hostList.exec(databaseUrl) ?? [];
  const listed = hosts.split(',');
  const url = new URL(listed.length > 1 ? `${scheme}${listed[0]}${rest}` : databaseUrl);
  const nodes = listed.map((entry) => {
    const node = new URL(`mysql://${entry}`);
    return { host: node.hostname.replace(/^\[(.*)\]$/, '$1'), port: node.port ? Number(node.port) : 3306 };
  });
  return {
    database: decodeURIComponent(url.pathname.slice(1)),
    nodes,
    connection: {
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      // ?socket=/run/mysqld/mysqld.sock: a database on the same machine over its Unix
      // socket, which costs the kernel far less per query than loopback TCP.
      socketPath: url.searchParams.get('socket') ?? undefined,
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
      // All times are UTC, in the database as in the code.
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4_unicode_ci',
    },
  };
}

/**
 * The process's pool. With several nodes in DATABASE_URL (a Galera cluster),
 * one node at a time, moving on when it stops being usable (FailoverPool).
 */
export function createPool(databaseUrl: string, connectionLimit = 10): Pool {
  const target = parseDatabaseUrl(databaseUrl);
  const nodePool = (node: DatabaseNode) => {
    const pool = mysql.createPool({ ...target.connection, ...node, database: target.database, connectionLimit, enableKeepAlive: true });
    // READ COMMITTED: claims and fan-out must see rows committed by other
    // processes a moment ago, and gap locks would only slow concurrent intake.
    // wsrep_sync_wait: on a Galera node, a read waits until the node has applied
    // what other nodes committed before it, so no process reads stale rows.
    pool.on('connection', (connection) => {
      connection.query("set session time_zone = '+00:00'");
      connection.query('set session transaction isolation level read committed');
      // On a cluster a lock can be held by a transaction of a node that just died until the cluster notices: wait less than 50 s.
      // A write held by a donor's read lock (a state transfer) gives up after 5 s and goes to another node.
      if (target.nodes.length > 1) connection.query('set session wsrep_sync_wait = 1, innodb_lock_wait_timeout = 10, lock_wait_timeout = 5');
    });
    return pool;
  };
  if (target.nodes.length === 1) return nodePool(target.nodes[0]!);
  return new FailoverPool(target.nodes, target.connection, nodePool) as unknown as Pool;
}

// Deadlocks and lock wait timeouts undo the whole transaction; running it again is safe.
const retryableErrors = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const maxTries = 4;
const isConflict = (error: unknown) => retryableErrors.has((error as { code?: string }).code ?? '');

/** Runs work again, up to maxTries, while it fails in a way that a run from the start resolves. */
async function retried<T>(work: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= maxTries || !retryable(error)) throw error;
    }
    // Two transactions that conflicted (a deadlock, or on Galera two nodes' commits) must not meet again at once.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
  }
}

/** One statement outside a transaction, run again after a deadlock (on Galera, a certification conflict with another node's commit). */
export function withConflictRetry<T>(work: () => Promise<T>): Promise<T> {
  return retried(work, (error) => (error as { code?: string }).code === 'ER_LOCK_DEADLOCK');
}

/** Thrown by work that found the database changed under it in a way that a run from the start resolves. */
export class RetryTransaction extends Error {}

/** Runs work in a transaction, committed if it returns, rolled back if it throws; retried after a deadlock (on Galera also a certification conflict). */
export function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const once = async () => {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      const result = await work(connection);
      await connection.commit();
      return result;
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  };
  return retried(once, (error) => error instanceof RetryTransaction || isConflict(error));
}

/**
 * A statement through mysql2's callback API, on the pool or on a transaction's
 * connection. The promise API captures a stack trace for every query, which
 * costs as much CPU as the rest of a GetWebHooks call; the hot paths (the
 * webhook list, a delivery round) use this instead.
 */
export function run<T extends RowDataPacket[] | ResultSetHeader>(db: Queryable, sql: string, values: unknown[]): Promise<T> {
  const core = ('pool' in db ? db.pool : (db as PoolConnection).connection) as { query(sql: string, values: unknown[], done: (error: Error | null, result: unknown) => void): void };
  return new Promise((resolve, reject) => {
    core.query(sql, values, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

export function selectRows(db: Queryable, sql: string, values: unknown[]): Promise<RowDataPacket[]> {
  return run<RowDataPacket[]>(db, sql, values);
}

// No database to talk to right now (down, restarting, a Galera node that lost
// its cluster answers 1047): the caller should try again shortly, not be told
// of an internal error.
const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE',
  // A conflict that outlasted its retries (a node's loss can cause a burst of them) passes too.
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_CON_COUNT_ERROR',
]);

// mysql2 says these without a code: a node's pool closed by a failover under a
// request still using it, or a connection that died with the node.
const unavailableMessages = /^(Pool is closed\.|Can't add new command when connection is in closed state|Can't write in closed state)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  const failure = error as { code?: string; errno?: number; fatal?: boolean; message?: string } | undefined;
  return Boolean(failure && (
    unavailableCodes.has(failure.code ?? '') || failure.errno === 1047 || failure.errno === 2013 || failure.errno === 1180 || unavailableMessages.test(failure.message ?? '')
  ));
}

/**
 * No usable database node right now (gone, restarting, a donor left): expected
 * for a while during a failover, a warning. A conflict that outlasted its
 * retries is not this: it is an error.
 */
export function isDatabaseAway(error: unknown): boolean {
  return isDatabaseUnavailable(error) && !isConflict(error);
}
