import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrator.js';

const serverUrl = process.env.TEST_DATABASE_SERVER ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A throwaway `test_<random>` database, migrated from sql/ (unless told not to), for one test file. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const url = `${serverUrl}/${name}`;
  if (options.migrated !== false) await migrate(url);
  return {
    url,
    name,
    async drop() {
      const connection = await mysql.createConnection(parseDatabaseUrl(url).connection);
      try {
        await connection.query('drop database if exists ??', [name]);
      } finally {
        await connection.end();
      }
    },
  };
}
