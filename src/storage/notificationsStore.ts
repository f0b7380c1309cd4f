import type { Queryable } from './database.js';

export interface DeactivationDetails {
  reason: 'failures' | 'gone';
  lastError: string;
  failureClass: string;
  statusCode: number | null;
  failureCount: number;
  firstFailureAt: string;
  deactivatedAt: string;
}

/** The system notification of one deactivation, waiting to be sent. */
export async function insertDeactivationNotification(
  tx: Queryable,
  notification: { accountId: number; webhookId: number; deactivation: number; details: DeactivationDetails },
  now: Date,
): Promise<void> {
  await tx.query(
    `insert ignore into notifications (account_id, webhook_id, deactivation, kind, details, created_at, next_attempt_at)
     values (?, ?, ?, 'webhook_deactivated', ?, ?, ?)`,
    [notification.accountId, notification.webhookId, notification.deactivation, JSON.stringify(notification.details), now, now],
  );
}
