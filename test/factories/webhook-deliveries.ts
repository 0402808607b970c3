import { newId } from '../../src/lib/ids';
import { webhookAttempts, webhookDeliveries } from '../../src/db/schema';
import { Db, orm } from './db';

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/**
 * A webhook_deliveries row of an existing endpoint, with a published-shape body of its type:
 * `await insertWebhookDelivery(db, { endpointId, ownerId, status: 'FAILED' })`. PENDING and due now, and about
 * the owner, unless told.
 */
export async function insertWebhookDelivery(
  db: Db,
  columns: Pick<typeof webhookDeliveries.$inferInsert, 'endpointId' | 'ownerId'> & Partial<typeof webhookDeliveries.$inferInsert>,
): Promise<WebhookDeliveryRow> {
  const eventId = columns.eventId ?? newId('evt');
  const eventType = columns.eventType ?? 'ping';
  const body = JSON.stringify({
    id: eventId,
    object: 'event',
    type: eventType,
    created: Math.floor(Date.now() / 1000),
    data: { object: { endpointId: columns.endpointId, message: 'factory' } },
  });
  const [row] = await orm(db)
    .insert(webhookDeliveries)
    .values({ eventId, eventType, body, nextAttemptAt: new Date(), subjectUserId: columns.ownerId, ...columns })
    .returning();
  return row!;
}

/** One recorded attempt of a delivery: a 200 now unless told. */
export async function insertWebhookAttempt(db: Db, deliveryId: string, columns: Partial<typeof webhookAttempts.$inferInsert> = {}) {
  const [row] = await orm(db)
    .insert(webhookAttempts)
    .values({ deliveryId, attemptedAt: new Date(), statusCode: 200, durationMs: 12, responseBody: 'ok', ...columns })
    .returning();
  return row!;
}
