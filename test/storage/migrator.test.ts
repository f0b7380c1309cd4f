import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

  it('keeps a delivery\'s status in the keys that need it only, so that a status change rewrites two keys, not four', async () => {
    // The queue (pending deliveries of a webhook) and the purge (finished ones by age) need it; the
    // lanes that back off and the deliveries of an event do not (sql/021).
    const connection = await mysql.createConnection({ ...parseDatabaseUrl(url).connection, database: name });
    const [rows] = await connection.query<any[]>(
      "select index_name, group_concat(column_name order by seq_in_index) as columns from information_schema.statistics where table_schema = database() and table_name = 'deliveries' group by index_name",
    );
    await connection.end();
    const keys = Object.fromEntries(rows.map((row) => [row.index_name, row.columns.split(',')]));
    expect(Object.keys(keys).filter((key) => keys[key].includes('status')).sort()).to.deep.equal(['ix_deliveries_finished', 'ix_deliveries_queue']);
    expect(keys.ix_deliveries_lane_backoff).to.deep.equal(['webhook_id', 'retry_at']);
    expect(keys.ix_deliveries_event_webhook).to.deep.equal(['event_id', 'webhook_id']);
  });

  it('stores deliveries so that ending one updates its row in place (a NULL finished_at keeps its room)', async () => {
    // In the compact row formats the row grows when finished_at is set, and full pages are
    // reorganised or split: 1,543 bytes of redo per delivery ended, against 211 in place (sql/022).
    const connection = await mysql.createConnection({ ...parseDatabaseUrl(url).connection, database: name });
    const [rows] = await connection.query<any[]>("select row_format from information_schema.tables where table_schema = database() and table_name = 'deliveries'");
    await connection.end();
    expect(rows[0].row_format).to.equal('Redundant');
  });

  it('tries a statement again that lost a deadlock to a running process, and applies the file once', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    const database = `test_${randomBytes(6).toString('hex')}`;
    const target = `mysql://root@127.0.0.1:3306/${database}`;
    const other = await mysql.createConnection({ ...parseDatabaseUrl(url).connection, multipleStatements: true });
    try {
      writeFileSync(path.join(directory, '001_rows.sql'), `-- two rows; a semicolon in a comment; and in a 'string;'
        create table pair (id int primary key, v int not null) engine=InnoDB;
        create table ballast (id int primary key) engine=InnoDB;
        insert into pair values (1, 0), (2, 0);`);
      await migrate(target, directory);
      writeFileSync(path.join(directory, '002_both.sql'), "update pair set v = v + 1 where id in (1, 2) order by id; /* ';' */");
      // A process's transaction: heavier than the migration's, so that InnoDB picks the migration as the victim.
      await other.query(`use ${database}`);
      await other.query('begin');
      await other.query('insert into ballast select seq from seq_1_to_2000');
      await other.query('update pair set v = 10 where id = 2');
      const migrating = migrate(target, directory);
      for (let waited = 0; waited < 100; waited += 1) {
        const [rows] = await other.query<mysql.RowDataPacket[]>("select count(*) as n from information_schema.processlist where info like 'update pair set v = v + 1%'");
        if (Number(rows[0]!.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await other.query('update pair set v = 20 where id = 1'); // the cycle: the migration holds 1 and waits for 2
      await other.query('commit');
      expect(await migrating).to.deep.equal(['002_both.sql']);
      const [rows] = await other.query<mysql.RowDataPacket[]>('select id, v from pair order by id');
      expect(rows.map((row) => [row.id, row.v])).to.deep.equal([[1, 21], [2, 11]]);
    } finally {
      await other.query('drop database if exists ??', [database]);
      await other.end();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
