import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { parseDatabaseUrl } from '../../src/storage/database.js';
import { listMigrations, migrate } from '../../src/storage/migrator.js';

describe('migrate', () => {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const url = `mysql://root@127.0.0.1:3306/${name}`;

  after(async () => {
    const connection = await mysql.createConnection(parseDatabaseUrl(url).connection);
    await connection.query('drop database if exists ??', [name]);
    await connection.end();
  });

  it('creates the database, applies every file once, even from two processes at once', async () => {
    const [first, second] = await Promise.all([migrate(url), migrate(url)]);
    const files = (await listMigrations()).map((m) => m.file);
    expect([...first, ...second].sort()).to.deep.equal(files);
    expect(await migrate(url)).to.deep.equal([]);
    const connection = await mysql.createConnection({ ...parseDatabaseUrl(url).connection, database: name });
    const [rows] = await connection.query<any[]>('select file from schema_migrations order by version');
    await connection.end();
    expect(rows.map((row) => row.file)).to.deep.equal(files);
  });
});
