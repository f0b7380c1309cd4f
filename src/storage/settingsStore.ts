import type { Queryable, RowDataPacket } from './database.js';

/** The stored value, or `candidate` stored now if there was none: the first process to ask wins, the rest read its value. */
export async function settingOrInsert(db: Queryable, name: string, candidate: string): Promise<string> {
  await db.query('insert ignore into settings (name, value) values (?, ?)', [name, candidate]);
  const [rows] = await db.query<RowDataPacket[]>('select s.value from settings s where s.name = ?', [name]);
  return String(rows[0]!.value);
}
