import type { Queryable, ResultSetHeader, RowDataPacket } from './database.js';

/** A one-time sign-in link, by the hash of its token. */
export async function insertPortalLink(
  db: Queryable,
  link: { tokenHash: Buffer; accountId: number; webhookId: number | null; language: string; expiresAt: Date },
): Promise<void> {
  await db.query('insert into portal_links (token_hash, account_id, webhook_id, language, expires_at) values (?, ?, ?, ?, ?)', [
    link.tokenHash, link.accountId, link.webhookId, link.language, link.expiresAt,
  ]);
}

/** Uses a link once: the first caller gets what it signs in to, every later one nothing. */
export async function usePortalLink(tx: Queryable, tokenHash: Buffer, now: Date): Promise<{ accountId: number; webhookId: number | null; language: 'de' | 'en' } | undefined> {
  const [result] = await tx.query<ResultSetHeader>('update portal_links set used_at = ? where token_hash = ? and used_at is null and expires_at > ?', [now, tokenHash, now]);
  if (result.affectedRows !== 1) return undefined;
  const [rows] = await tx.query<RowDataPacket[]>('select l.account_id, l.webhook_id, l.language from portal_links l where l.token_hash = ?', [tokenHash]);
  const row = rows[0]!;
  return { accountId: Number(row.account_id), webhookId: row.webhook_id === null ? null : Number(row.webhook_id), language: row.language };
}

export async function insertPortalSession(db: Queryable, session: { idHash: Buffer; accountId: number; language: string; csrf: string }, now: Date): Promise<void> {
  await db.query('insert into portal_sessions (id_hash, account_id, language, csrf, created_at, last_seen_at) values (?, ?, ?, ?, ?, ?)', [
    session.idHash, session.accountId, session.language, session.csrf, now, now,
  ]);
}

/** The session, if it was seen since `idleSince`; seen now. */
export async function touchPortalSession(db: Queryable, idHash: Buffer, idleSince: Date, now: Date): Promise<{ accountId: number; username: string; language: 'de' | 'en'; csrf: string } | undefined> {
  const [result] = await db.query<ResultSetHeader>('update portal_sessions set last_seen_at = ? where id_hash = ? and last_seen_at >= ?', [now, idHash, idleSince]);
  if (result.affectedRows !== 1) return undefined;
  const [rows] = await db.query<RowDataPacket[]>(
    'select s.account_id, a.username, s.language, s.csrf from portal_sessions s join accounts a on a.id = s.account_id where s.id_hash = ?',
    [idHash],
  );
  return rows[0] ? { accountId: Number(rows[0].account_id), username: rows[0].username, language: rows[0].language, csrf: rows[0].csrf } : undefined;
}

export async function setPortalSessionLanguage(db: Queryable, idHash: Buffer, language: 'de' | 'en'): Promise<void> {
  await db.query('update portal_sessions set language = ? where id_hash = ?', [language, idHash]);
}

export async function deletePortalSession(db: Queryable, idHash: Buffer): Promise<void> {
  await db.query('delete from portal_sessions where id_hash = ?', [idHash]);
}

/** Ends every way into the portal an account has now: its sessions and its unused sign-in links. */
export async function endPortalAccess(db: Queryable, accountId: number): Promise<void> {
  await db.query('delete from portal_sessions where account_id = ?', [accountId]);
  await db.query('delete from portal_links where account_id = ? and used_at is null', [accountId]);
}

/** Housekeeping: links past their time, sessions idle past theirs. */
export async function purgePortalAccess(db: Queryable, now: Date, idleSince: Date): Promise<number> {
  const [links] = await db.query<ResultSetHeader>('delete from portal_links where expires_at < ?', [now]);
  const [sessions] = await db.query<ResultSetHeader>('delete from portal_sessions where last_seen_at < ?', [idleSince]);
  return links.affectedRows + sessions.affectedRows;
}
