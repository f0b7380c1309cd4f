import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from './database.js';

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

/**
 * Creates the database if missing and applies every sql/NNN_*.sql not yet applied.
 * MySQL commits DDL on its own, so two migrators are kept apart by GET_LOCK, not
 * by a transaction. Returns the files applied by this call.
 */
export async function migrate(databaseUrl: string, directory = sqlDirectory): Promise<string[]> {
  const target = parseDatabaseUrl(databaseUrl);
  const connection = await mysql.createConnection({ ...target.connection, multipleStatements: true });
  const applied: string[] = [];
  try {
    await connection.query("set session time_zone = '+00:00'");
    await connection.query('create database if not exists ?? character set utf8mb4 collate utf8mb4_unicode_ci', [target.database]);
    await connection.query('use ??', [target.database]);
    const [lockRows] = await connection.query<mysql.RowDataPacket[]>("select get_lock(concat(database(), '.migrate'), 60) as got");
    if (lockRows[0]?.got !== 1) throw new Error('another migration holds the lock for more than 60 s');
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
        await connection.query(text);
        await connection.query('insert into schema_migrations (version, file, applied_at) values (?, ?, utc_timestamp(3))', [
          migration.version,
          migration.file,
        ]);
        applied.push(migration.file);
      }
    } finally {
      await connection.query("select release_lock(concat(database(), '.migrate'))");
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
