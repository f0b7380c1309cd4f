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

/** An account as the platform's systems see it: never a secret. */
export interface AccountView {
  username: string;
  email: string;
  language: 'de' | 'en';
  createdAt: Date;
  webhooks: number;
}

const accountViewColumns = 'a.username, a.email, a.language, a.created_at, (select count(*) from webhooks w where w.account_id = a.id) as webhooks';

function toAccountView(row: RowDataPacket): AccountView {
  return { username: row.username, email: row.email, language: row.language, createdAt: row.created_at, webhooks: Number(row.webhooks) };
}

export async function findAccountView(db: Queryable, username: string): Promise<AccountView | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(`select ${accountViewColumns} from accounts a where a.username = ?`, [username]);
  // The column's collation ignores trailing spaces; an account's name does not.
  return rows[0] && rows[0].username === username ? toAccountView(rows[0]) : undefined;
}

export async function listAccountViews(db: Queryable): Promise<AccountView[]> {
  const [rows] = await db.query<RowDataPacket[]>(`select ${accountViewColumns} from accounts a order by a.username`);
  return rows.map(toAccountView);
}

/** Changes what is given; an absent field stays as it is. */
export async function updateAccount(db: Queryable, id: number, fields: { passwordHash?: string; email?: string; language?: string }): Promise<void> {
  await db.query(
    'update accounts set password_hash = coalesce(?, password_hash), email = coalesce(?, email), language = coalesce(?, language) where id = ?',
    [fields.passwordHash ?? null, fields.email ?? null, fields.language ?? null, id],
  );
}

/** The hash an account's password is checked against now; undefined when the account is gone. */
export async function currentPasswordHash(db: Queryable, id: number): Promise<string | undefined> {
  const [rows] = await db.query<RowDataPacket[]>('select a.password_hash from accounts a where a.id = ?', [id]);
  return rows[0]?.password_hash;
}
