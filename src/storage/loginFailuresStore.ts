import type { Queryable, ResultSetHeader } from './database.js';

export type FailureScope = 'address' | 'account' | 'account_address';

export interface FailureSubject {
  scope: FailureScope;
  hash: Buffer;
  /** The account the row counts against, so that closing it finds the row. */
  accountId?: number;
}

/**
 * Counts an attempt against the subject before its outcome is known and
 * returns the count within the window, this attempt included: one atomic
 * statement (LAST_INSERT_ID(expr) hands the new value back in the answer), so
 * parallel attempts each see a different count. A window older than
 * windowStart begins anew.
 */
export async function reserveLoginAttempt(db: Queryable, subject: FailureSubject, now: Date, windowStart: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    `insert into login_failures (scope, subject_hash, account_id, window_start, failures) values (?, ?, ?, ?, last_insert_id(1))
     on duplicate key update
       failures = last_insert_id(if(window_start < ?, 1, failures + 1)),
       window_start = if(window_start < ?, ?, window_start)`,
    [subject.scope, subject.hash, subject.accountId ?? null, now, windowStart, windowStart, now],
  );
  return result.insertId;
}

/** Takes reserved attempts back: they were no failure (a success, or refused before any password was checked). */
export async function giveBackLoginAttempts(db: Queryable, subjects: FailureSubject[]): Promise<void> {
  if (subjects.length === 0) return;
  await db.query('update login_failures set failures = greatest(failures, 1) - 1 where (scope, subject_hash) in (?)', [subjects.map((s) => [s.scope, s.hash])]);
}

export async function clearLoginFailures(db: Queryable, subject: FailureSubject): Promise<void> {
  await db.query('delete from login_failures where scope = ? and subject_hash = ?', [subject.scope, subject.hash]);
}

export async function purgeLoginFailures(db: Queryable, before: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>('delete from login_failures where window_start < ?', [before]);
  return result.affectedRows;
}
