// What a delivery's rows cost the database to write, by each release's own
// schema: redo bytes (Innodb_os_log_written) per delivery for inserting it
// (one statement per 1,000), for ending it (marked delivered, 100 a
// transaction, as a round records them) and for its attempt. Redo is what
// InnoDB writes for every change, page reorganisations and splits included,
// and it does not depend on how busy the machine is. The server must be quiet
// otherwise: the counter is global.
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from '../src/storage/database.js';
import { thisTree, withReleases, type Release } from './releases.js';
import { subjectOf } from './subjects.js';

const webhooks = 100;
const events = 30;
const perTransaction = 100;

interface RowWrites {
  insert: number;
  end: number;
  attempt: number;
}

async function hasColumn(connection: mysql.Connection, table: string, column: string): Promise<boolean> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    'select 1 from information_schema.columns where table_schema = database() and table_name = ? and column_name = ?',
    [table, column],
  );
  return rows.length > 0;
}

async function rowWrites(release: Release): Promise<RowWrites> {
  const database = await (await subjectOf(release)).createDatabase();
  const connection = await mysql.createConnection({ ...parseDatabaseUrl(database.url).connection, database: database.name });
  try {
    const redo = async () => {
      const [rows] = await connection.query<mysql.RowDataPacket[]>("show global status like 'Innodb_os_log_written'");
      return Number(rows[0]!.Value);
    };
    await connection.query("insert into accounts (username, password_hash, email, language, created_at) values ('shop', 'unused', 'shop@example.com', 'en', now())");
    await connection.query(
      `insert into webhooks (account_id, app, event, url, secret, created_at)
       select a.id, concat('hook', n.seq), 'optin_finalized', concat('http://127.0.0.1:9/', n.seq), 'whsec_YmVuY2gtc2VjcmV0', now() from accounts a join seq_1_to_${webhooks} n`,
    );
    await connection.query(
      `insert into events (account_id, event, payload, payload_bytes, occurred_at, received_at)
       select a.id, 'optin_finalized', '{"id":1}', 8, now(3), now(3) from accounts a join seq_1_to_${events}`,
    );
    const numbered = await hasColumn(connection, 'deliveries', 'sequence');
    const withResponse = await hasColumn(connection, 'attempts', 'response');
    // Let the purge of what came before settle: the counter is the server's.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const start = await redo();
    await connection.query(
      `insert into deliveries (webhook_id, event_id, ${numbered ? 'sequence, previous_sequence, ' : ''}status, occurred_at, created_at)
       select w.id, e.id, ${numbered ? 'e.id, e.id - 1, ' : ''}'pending', e.occurred_at, now(3) from events e join webhooks w order by e.id, w.id`,
    );
    const inserted = await redo();
    const [deliveries] = await connection.query<mysql.RowDataPacket[]>('select id, webhook_id from deliveries order by id');
    for (let i = 0; i < deliveries.length; i += perTransaction) {
      const ids = deliveries.slice(i, i + perTransaction).map((row) => row.id);
      await connection.beginTransaction();
      await connection.query("update deliveries set status = 'delivered', attempts = attempts + 1, finished_at = now(3) where id in (?) and status = 'pending'", [ids]);
      await connection.commit();
    }
    const ended = await redo();
    for (let i = 0; i < deliveries.length; i += perTransaction) {
      const rows = deliveries.slice(i, i + perTransaction).map((row) => [row.id, row.webhook_id, new Date(), 1.5, 204, 1, null, null, ...(withResponse ? [null] : []), 'bench:1:abcdef']);
      await connection.beginTransaction();
      await connection.query(
        `insert into attempts (delivery_id, webhook_id, attempted_at, duration_ms, status_code, succeeded, failure_class, error, ${withResponse ? 'response, ' : ''}worker) values ?`,
        [rows],
      );
      await connection.commit();
    }
    const attempted = await redo();
    const n = deliveries.length;
    return { insert: (inserted - start) / n, end: (ended - inserted) / n, attempt: (attempted - ended) / n };
  } finally {
    await connection.end();
    await database.drop();
  }
}

export async function benchRowWrites(): Promise<string[]> {
  return withReleases(async (releases) => {
    const rows: string[] = [];
    const ours = await rowWrites(thisTree);
    for (const release of releases) {
      const writes = release === thisTree ? ours : await rowWrites(release);
      const bytes = (value: number) => `${value.toFixed(0)} B`;
      const versus = release === thisTree ? '' : `this tree ${(ours.end / writes.end).toFixed(2)}× to end a delivery`;
      rows.push(`| redo per delivery (${webhooks * events} deliveries): insert, end (marked delivered), attempt; ${release.label} | ${bytes(writes.insert)}, ${bytes(writes.end)}, ${bytes(writes.attempt)} | | ${versus} |`);
    }
    return rows;
  });
}
