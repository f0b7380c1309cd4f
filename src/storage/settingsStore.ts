import type { Queryable, RowDataPacket } from './database.js';

/** The stored value, or `candidate` stored now if there was none: the first process to ask wins, the rest read its value. */
export async function settingOrInsert(db: Queryable, name: string, candidate: string): Promise<string> {
  await db.query('insert ignore into settings (name, value) values (?, ?)', [name, candidate]);
  const [rows] = await db.query<RowDataPacket[]>('select s.value from settings s where s.name = ?', [name]);
  return String(rows[0]!.value);
}

const reporterSetting = 'metrics_reporter';

/**
 * Whether this process reports the queue's figures now: one process at a
 * time holds the role for `leaseMs`, renewed by each of its scrapes, so that
 * a sum over processes counts the queue once; when it is no longer scraped
 * (it stopped, Prometheus lost it), another takes over after the lease. The
 * role lives in the settings table as "<process> <until ms>".
 */
export async function claimMetricsReporter(db: Queryable, processId: string, now: Date, leaseMs: number): Promise<boolean> {
  const value = `${processId} ${now.getTime() + leaseMs}`;
  await db.query(
    `insert into settings (name, value) values (?, ?)
     on duplicate key update value = if(substring_index(value, ' ', 1) = ? or cast(substring_index(value, ' ', -1) as unsigned) < ?, values(value), value)`,
    [reporterSetting, value, processId, now.getTime()],
  );
  const [rows] = await db.query<RowDataPacket[]>('select s.value from settings s where s.name = ?', [reporterSetting]);
  return String(rows[0]?.value ?? '').split(' ')[0] === processId;
}
