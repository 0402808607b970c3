import { iso, isoOrNull } from '../../common/iso';
import { AttemptRow, DeliveryRow } from './webhook-deliveries.repository';
import { WebhookDeliveryView } from './webhook-deliveries.schemas';

/** The delivery with the event as its endpoint received it: the body is what was signed, and never carries secrets. */
export function toWebhookDeliveryView({ delivery, attempts }: { delivery: DeliveryRow; attempts: AttemptRow[] }): WebhookDeliveryView {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: isoOrNull(delivery.nextAttemptAt),
    lastError: delivery.lastError,
    createdAt: iso(delivery.createdAt),
    completedAt: isoOrNull(delivery.completedAt),
    payload: JSON.parse(delivery.body) as WebhookDeliveryView['payload'],
    attempts: attempts.map((attempt) => ({
      id: attempt.id,
      attemptedAt: iso(attempt.attemptedAt),
      statusCode: attempt.statusCode,
      durationMs: attempt.durationMs,
      responseBody: attempt.responseBody,
      failure: attempt.failure,
    })),
  };
}
