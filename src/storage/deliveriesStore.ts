import type { Queryable, ResultSetHeader } from './database.js';

/** Replay: buffered deliveries wait again, in their original order, ahead of anything newer. */
export async function requeueBufferedDeliveries(db: Queryable, webhookId: number): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'pending' where webhook_id = ? and status = 'buffered'",
    [webhookId],
  );
  return result.affectedRows;
}

export async function discardBufferedDeliveries(db: Queryable, webhookId: number, now: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    "update deliveries set status = 'discarded', finished_at = ? where webhook_id = ? and status = 'buffered'",
    [now, webhookId],
  );
  return result.affectedRows;
}
