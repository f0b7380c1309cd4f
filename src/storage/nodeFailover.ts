import mysql, { type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';

export interface DatabaseNode {
  host: string;
  port: number;
}

// How long a probe may take, how often a process looks whether a node earlier
// in its list is usable again (processes given the same list then agree on one),
// and how often it looks at the node it uses: a donor or a desynced node fails
// no statement, it holds them, so only looking tells.
const probeTimeoutMs = 2000;
const recheckEarlierMs = 5000;
const watchCurrentMs = 1000;
// A node left behind keeps its pool this long, so that statements still running there end by themselves.
const retireAfterMs = 10_000;
// A node left because it is not usable (a donor holding its read lock, desynced) holds what runs
// there: a causal read waits up to 30 s, a write until the transfer ends. After this grace its
// statements still running are cut off (their connections closed); the callers see the database
// briefly unavailable and try again on the next node (intake answers 503, a worker its next round).
const interruptLeftAfterMs = 2000;

/** The node answers, and if it is a Galera node, it says it is ready, synced and in the primary component. */
export async function probeNode(options: mysql.ConnectionOptions): Promise<boolean> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({ ...options, connectTimeout: probeTimeoutMs });
    // A server without wsrep (MySQL, or MariaDB with it off) is usable when it answers.
    const galera = await connection.query<RowDataPacket[]>({ sql: 'select @@global.wsrep_on as wsrep', timeout: probeTimeoutMs }).then(([rows]) => Number(rows[0]?.wsrep) === 1, () => false);
    if (!galera) return true;
    // A node that does not answer this within the probe's time stalls: as good as gone.
    const [rows] = await connection.query<RowDataPacket[]>({
      sql: "show global status where variable_name in ('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status')",
      timeout: probeTimeoutMs,
    });
    const status = Object.fromEntries(rows.map((row) => [String(row.Variable_name).toLowerCase(), String(row.Value)]));
    if (!(status.wsrep_ready === 'ON' && status.wsrep_local_state_comment === 'Synced' && status.wsrep_cluster_status === 'Primary')) return false;
    // A read as ours are made (waiting until the node has applied what the cluster committed): a node
    // that says it is synced but holds such reads (the cluster stalls while it notices a lost node) stalls.
    await connection.query('set session wsrep_sync_wait = 1');
    await connection.query({ sql: 'select 1', timeout: probeTimeoutMs });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

class NoNodeUsable extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(nodes: DatabaseNode[]) {
    super(`no database node is usable (${nodes.map((n) => `${n.host}:${n.port}`).join(', ')})`);
  }
}

/**
 * A pool over several database nodes (a Galera cluster): one node at a time,
 * the first in the list that is usable; when a statement finds the node gone
 * (or not ready: 1047), the pool moves to the next usable one, and it moves
 * back to an earlier node once that is usable again, so that processes given
 * the same list use the same node. The failed statement still fails (its
 * caller retries: intake answers 503, a worker its next poll); nothing is
 * re-run behind the caller's back, since a write whose commit was lost may
 * or may not have happened.
 */
export class FailoverPool {
  private current: { index: number; pool: Pool } | undefined;
  private choosing: Promise<{ index: number; pool: Pool }> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly watcher: NodeJS.Timeout;
  private watching = false;
  private readonly retired = new Set<Pool>();
  private ended = false;

  constructor(
    private readonly nodes: DatabaseNode[],
    private readonly options: mysql.ConnectionOptions,
    private readonly makePool: (node: DatabaseNode) => Pool,
  ) {
    this.timer = setInterval(() => void this.preferEarlier().catch(() => undefined), recheckEarlierMs);
    this.timer.unref();
    this.watcher = setInterval(() => void this.watchCurrent(), watchCurrentMs);
    this.watcher.unref();
  }

  /** The node in use now, for /readyz and the logs. */
  get node(): DatabaseNode | undefined {
    return this.current && this.nodes[this.current.index];
  }

  query(...args: unknown[]): Promise<unknown> {
    return this.use((pool) => (pool.query as (...a: unknown[]) => Promise<unknown>)(...args));
  }

  getConnection(): Promise<PoolConnection> {
    return this.use((pool) => pool.getConnection()).then((connection) => this.watched(connection));
  }

  /** mysql2's callback pool, for the hot paths' run(): its failures move the pool on as well. */
  get pool(): { query(sql: string, values: unknown[], done: (error: Error | null, result: unknown) => void): void } {
    return {
      query: (sql, values, done) => {
        // mysql2's core query returns a thenable Query object: it must not become the promise's value.
        this.ready().then(
          ({ index, pool }) => {
            const core = (pool as unknown as { pool: { query: (s: string, v: unknown[], d: (e: Error | null, r: unknown) => void) => void } }).pool;
            core.query(sql, values, (error, result) => {
              if (error && isNodeGone(error)) this.leave(index);
              done(error, result);
            });
          },
          (error: Error) => done(error, undefined),
        );
      },
    };
  }

  async end(): Promise<void> {
    this.ended = true;
    clearInterval(this.timer);
    clearInterval(this.watcher);
    const pools = [...this.retired, ...(this.current ? [this.current.pool] : [])];
    this.current = undefined;
    this.retired.clear();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }

  /** A pool of a node left behind, ended once what runs there had its time; a node found unusable gets less. */
  private retire(pool: Pool, unusable = false): void {
    this.retired.add(pool);
    if (unusable) setTimeout(() => closeBusyConnections(pool), interruptLeftAfterMs).unref();
    setTimeout(() => {
      if (!this.retired.delete(pool)) return;
      void pool.end().catch(() => undefined);
    }, retireAfterMs).unref();
  }

  private async use<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
    const { index, pool } = await this.ready();
    try {
      return await work(pool);
    } catch (error) {
      if (isNodeGone(error)) this.leave(index);
      throw error;
    }
  }

  /** A transaction's connection: a statement that finds the node gone moves the pool on too. */
  private watched(connection: PoolConnection): PoolConnection {
    const index = this.current?.index;
    const query = connection.query.bind(connection) as (...a: unknown[]) => Promise<unknown>;
    (connection as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) =>
      query(...args).catch((error: unknown) => {
        if (index !== undefined && isNodeGone(error)) this.leave(index);
        throw error;
      });
    return connection;
  }

  private ready(): Promise<{ index: number; pool: Pool }> {
    if (this.current) return Promise.resolve(this.current);
    this.choosing ??= this.choose(0).finally(() => (this.choosing = undefined));
    return this.choosing;
  }

  /** The first usable node from `from` on (then from the start), as the current one. */
  private async choose(from: number): Promise<{ index: number; pool: Pool }> {
    for (let step = 0; step < this.nodes.length; step += 1) {
      const index = (from + step) % this.nodes.length;
      if (await probeNode({ ...this.options, ...this.nodes[index] })) return this.switchTo(index);
    }
    throw new NoNodeUsable(this.nodes);
  }

  private switchTo(index: number): { index: number; pool: Pool } {
    const previous = this.current;
    this.current = { index, pool: this.makePool(this.nodes[index]!) };
    // Statements still running on the old node finish or fail there.
    if (previous) this.retire(previous.pool);
    return this.current;
  }

  /** The node at `index` failed a statement or a probe: the next statement goes to the next usable node. */
  private leave(index: number): void {
    if (this.current?.index !== index || this.ended) return;
    const previous = this.current;
    this.current = undefined;
    this.retire(previous.pool, true);
    this.choosing ??= this.choose((index + 1) % this.nodes.length).finally(() => (this.choosing = undefined));
    this.choosing.catch(() => undefined);
  }

  /**
   * Leaves the node in use when it is no longer synced (a donor, desynced,
   * joining), out of the primary component, or stalls: what runs there has
   * its lock wait bounded (createPool) and fails over to the next node.
   */
  private async watchCurrent(): Promise<void> {
    const current = this.current;
    if (!current || this.watching || this.ended) return;
    this.watching = true;
    try {
      if (!(await probeNode({ ...this.options, ...this.nodes[current.index] })) && this.current === current) this.leave(current.index);
    } finally {
      this.watching = false;
    }
  }

  /** Back to a node earlier in the list once it is usable again. */
  private async preferEarlier(): Promise<void> {
    const current = this.current;
    if (!current || current.index === 0 || this.choosing) return;
    for (let index = 0; index < current.index; index += 1) {
      if (await probeNode({ ...this.options, ...this.nodes[index] })) {
        if (this.current === current) this.switchTo(index);
        return;
      }
    }
  }
}

/**
 * Closes the connections of a pool that are in use now (mysql2 keeps no
 * public list of them): their statements fail at once with a lost
 * connection, and the server rolls back what they had not committed.
 */
function closeBusyConnections(pool: Pool): void {
  const core = (pool as unknown as { pool?: { _allConnections?: { toArray(): unknown[] }; _freeConnections?: { toArray(): unknown[] } } }).pool;
  const free = new Set(core?._freeConnections?.toArray() ?? []);
  for (const connection of core?._allConnections?.toArray() ?? []) {
    if (!free.has(connection)) (connection as { destroy(): void }).destroy();
  }
}

/** The node is gone or not usable: connection errors, or a Galera node outside the primary component (1047). */
function isNodeGone(error: unknown): boolean {
  const failure = error as { code?: string; errno?: number; fatal?: boolean };
  return failure?.errno === 1047 || failure?.fatal === true || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST'].includes(failure?.code ?? '');
}
