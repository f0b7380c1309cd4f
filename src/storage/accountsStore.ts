import type { Queryable, ResultSetHeader, RowDataPacket } from './database.js';

export interface AccountRecord {
  id: number;
  username: string;
  passwordHash: string;
  email: string;
  language: 'de' | 'en';
}

function toAccount(row: RowDataPacket): AccountRecord {
  return { id: Number(row.id), username: row.username, passwordHash: row.password_hash, email: row.email, language: row.language };
}

export async function insertAccount(
  db: Queryable,
  account: Omit<AccountRecord, 'id'>,
  now: Date,
): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    'insert into accounts (username, password_hash, email, language, created_at) values (?, ?, ?, ?, ?)',
    [account.username, account.passwordHash, account.email, account.language, now],
  );
  return result.insertId;
}

export async function findAccountByUsername(db: Queryable, username: string): Promise<AccountRecord | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(
    'select a.id, a.username, a.password_hash, a.email, a.language from accounts a where a.username = ?',
    [username],
  );
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/** Serialises changes to one account's webhooks (the per-account limit). */
export async function lockAccount(db: Queryable, id: number): Promise<void> {
  await db.query('select a.id from accounts a where a.id = ? for update', [id]);
}
