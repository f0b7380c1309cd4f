import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDatabaseUrl } from './database.js';
import { probeNode, type DatabaseNode } from './nodeFailover.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// src/storage when run from source, dist/src/storage when compiled
export const sqlDirectory = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../sql' : '../../sql');

export interface MigrationFile {
  version: string;
  file: string;
}

export async function listMigrations(directory = sqlDirectory): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name)).sort();
  return names.map((file) => ({ version: file.slice(0, 3), file }));
}

// A migrator holds the lock this long; a dead one blocks the next for at most that.
const lockSeconds = 300;
const waitForLockMs = 60_000;

/**
 * The migration lock: a row, so that it holds across every node of a Galera
 * cluster (GET_LOCK locks one node only), with an expiry, so that a migrator
 * that died cannot block the next for ever. Two nodes taking it at once
 * conflict at commit (1213) and one of them tries again.
 */
async function takeMigrationLock(connection: mysql.Connection, holder: string): Promise<void> {
  await connection.query(
    `create table if not exists schema_lock (
       name varchar(64) not null primary key,
       holder varchar(64) not null,
       expires_at datetime(3) not null
     ) engine=InnoDB`,
  );
  const deadline = Date.now() + waitForLockMs;
  for (;;) {
    try {
      // Left to right: the holder changes only where the lock expired; the expiry moves only for its holder.
      await connection.query(
        `insert into schema_lock (name, holder, expires_at) values ('migrate', ?, utc_timestamp(3) + interval ? second)
         on duplicate key update holder = if(expires_at < utc_timestamp(3), values(holder), holder),
                                 expires_at = if(holder = values(holder), values(expires_at), expires_at)`,
        [holder, lockSeconds],
      );
      const [rows] = await connection.query<mysql.RowDataPacket[]>("select holder from schema_lock where name = 'migrate'");
      if (rows[0]?.holder === holder) return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ER_LOCK_DEADLOCK') throw error;
    }
    if (Date.now() > deadline) throw new Error(`another migration holds the lock for more than ${waitForLockMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
  }
}

/** The first node of DATABASE_URL that is usable (on a cluster: ready and synced). */
async function firstUsableNode(target: ReturnType<typeof parseDatabaseUrl>): Promise<DatabaseNode> {
  if (target.nodes.length === 1) return target.nodes[0]!;
  for (const node of target.nodes) if (await probeNode({ ...target.connection, ...node })) return node;
  throw new Error('no database node is usable');
}

const lockWaitSeconds = 2;
const retryStatementMs = 120_000;
const lockConflicts = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * One statement of a migration, tried again while it loses a lock to the running
 * processes: a statement that failed so did nothing (DDL is atomic on MariaDB
 * 10.6+ and MySQL 8, and a failed DML statement is rolled back), while the
 * statements before it in the file are done and must not run twice.
 */
async function applyStatement(connection: mysql.Connection, statement: string): Promise<void> {
  const deadline = Date.now() + retryStatementMs;
  for (;;) {
    try {
      await connection.query(statement);
      return;
    } catch (error) {
      if (!lockConflicts.has((error as { code?: string }).code ?? '') || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 300));
  }
}

/**
 * The statements of a migration file without its comments: split at semicolons
 * outside quotes and comments (`--` and a space, `#`, block comments), as the mysql client does
 * for files without DELIMITER, which ours never need.
 */
export function sqlStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if ((c === '-' && text[i + 1] === '-' && /\s/.test(text[i + 2] ?? '\n')) || c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end - 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
      current += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' && c !== '`' ? 2 : 1;
      current += text.slice(i, j + 1);
      i = j;
    } else if (c === ';') {
      statements.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  statements.push(current);
  return statements.map((statement) => statement.trim()).filter((statement) => statement !== '');
}

/**
 * Creates the database if missing and applies every sql/NNN_*.sql not yet applied.
 * MySQL commits DDL on its own, so two migrators are kept apart by a lock row, not
 * by a transaction. Returns the files applied by this call.
 */
export async function migrate(databaseUrl: string, directory = sqlDirectory): Promise<string[]> {
  const target = parseDatabaseUrl(databaseUrl);
  const connection = await mysql.createConnection({ ...target.connection, ...(await firstUsableNode(target)), multipleStatements: true });
  const applied: string[] = [];
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  try {
    await connection.query("set session time_zone = '+00:00'");
    // Beside the previous release's processes: a backfill reads without shared row
    // locks, and a statement that waits for a lock gives up soon and goes again
    // rather than holding up every process queued behind its table lock.
    await connection.query(
      `set session lock_wait_timeout = ${lockWaitSeconds}, session innodb_lock_wait_timeout = ${lockWaitSeconds}`,
    );
    await connection.query('set session transaction isolation level read committed');
    await connection.query('create database if not exists ?? character set utf8mb4 collate utf8mb4_unicode_ci', [target.database]);
    await connection.query('use ??', [target.database]);
    await takeMigrationLock(connection, holder);
    try {
      await connection.query(
        `create table if not exists schema_migrations (
           version char(3) not null primary key,
           file varchar(255) not null,
           applied_at datetime(3) not null
         ) engine=InnoDB`,
      );
      const [doneRows] = await connection.query<mysql.RowDataPacket[]>('select version from schema_migrations');
      const done = new Set(doneRows.map((row) => String(row.version)));
      for (const migration of await listMigrations(directory)) {
        if (done.has(migration.version)) continue;
        const text = await readFile(path.join(directory, migration.file), 'utf8');
        for (const statement of sqlStatements(text)) await applyStatement(connection, statement);
        await connection.query('insert into schema_migrations (version, file, applied_at) values (?, ?, utc_timestamp(3))', [
          migration.version,
          migration.file,
        ]);
        applied.push(migration.file);
      }
    } finally {
      await connection.query("delete from schema_lock where name = 'migrate' and holder = ?", [holder]);
    }
  } finally {
    await connection.end();
  }
  return applied;
}

/** The versions the code expects that the database has not applied yet. */
export async function pendingMigrations(query: (sql: string) => Promise<string[]>, directory = sqlDirectory): Promise<string[]> {
  const done = new Set(await query('select version from schema_migrations'));
  return (await listMigrations(directory)).filter((m) => !done.has(m.version)).map((m) => m.file);
}
