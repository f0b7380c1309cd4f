import type { Queryable, RowDataPacket } from './database.js';

export type FailureScope = 'username' | 'address';

export interface FailureSubject {
  scope: FailureScope;
  hash: Buffer;
}

/** Counts one failure; a window older than windowStart begins anew at now. */
export async function recordLoginFailure(db: Queryable, subject: FailureSubject, now: Date, windowStart: Date): Promise<void> {
  await db.query(
    `insert into login_failures (scope, subject_hash, window_start, failures) values (?, ?, ?, 1)
     on duplicate key update
       failures = if(window_start < ?, 1, failures + 1),
       window_start = if(window_start < ?, ?, window_start)`,
    [subject.scope, subject.hash, now, windowStart, windowStart, now],
  );
}

export async function countRecentLoginFailures(
  db: Queryable,
  subjects: FailureSubject[],
  windowStart: Date,
): Promise<Map<FailureScope, number>> {
  const [rows] = await db.query<RowDataPacket[]>(
    `select lf.scope, lf.failures from login_failures lf
     where (lf.scope, lf.subject_hash) in (?) and lf.window_start >= ?`,
    [subjects.map((s) => [s.scope, s.hash]), windowStart],
  );
  return new Map(rows.map((row) => [row.scope as FailureScope, Number(row.failures)]));
}

export async function clearLoginFailures(db: Queryable, subject: FailureSubject): Promise<void> {
  await db.query('delete from login_failures where scope = ? and subject_hash = ?', [subject.scope, subject.hash]);
}

export async function purgeLoginFailures(db: Queryable, before: Date): Promise<number> {
  const [result] = await db.query<import('./database.js').ResultSetHeader>('delete from login_failures where window_start < ?', [before]);
  return result.affectedRows;
}
