import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createPool, type Pool } from '../../src/storage/database.js';
import { valuesList, type SqlValue } from '../../src/storage/sqlValues.js';

describe('a VALUES list formatted for a large insert', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.url);
    await pool.query('create table t (n bigint null, x double null, s varchar(200) null, d datetime(3) null)');
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  it('stores every value as given: quotes, backslashes, question marks, NUL, non-integers, nulls and dates in UTC', async () => {
    const at = new Date('2026-12-03T15:55:47.123Z');
    const rows: SqlValue[][] = [
      [1, 0.5, "it's a \\ test ? ?? -- ' or 1=1 #", at],
      [-9007199254740991, 1e21, 'a\u0000b\n\r\u001a"', null],
      [null, null, '?', at],
    ];
    const connection = await pool.getConnection();
    try {
      await connection.query(`insert into t (n, x, s, d) values ${valuesList(connection, rows)}`);
    } finally {
      connection.release();
    }
    const [stored] = await pool.query<any[]>('select n, x, s, d from t order by coalesce(n, 0)');
    expect(stored.map((row) => [row.n === null ? null : Number(row.n), row.x, row.s, row.d?.toISOString() ?? null])).to.deep.equal([
      [-9007199254740991, 1e21, 'a\u0000b\n\r\u001a"', null],
      [null, null, '?', at.toISOString()],
      [1, 0.5, "it's a \\ test ? ?? -- ' or 1=1 #", at.toISOString()],
    ]);
  });

  it('writes integers as digits and escapes a repeated value once', () => {
    let escaped = 0;
    const db = { escape: (value: unknown) => ((escaped += 1), `'${String(value instanceof Date ? value.getTime() : value)}'`) };
    const at = new Date(0);
    expect(valuesList(db, [[1, 'a', at], [2, 'a', new Date(0)], [3.5, null, at]])).to.equal("(1,'a','0'),(2,'a','0'),('3.5',NULL,'0')");
    expect(escaped).to.equal(3);
  });
});
