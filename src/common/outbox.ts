/**
 * The outbound event types, named as in the published catalog. Every state change that customers
 * hear about writes one of these to `outbox_messages` in its own transaction; the webhooks
 * module delivers them.
 */
export const OUTBOX_EVENT_TYPES = [
  'checkout.session.completed',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
  'payment_intent.payment_failed',
  'license.validated',
  'license.activated',
] as const;

export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

export interface OutboxEvent {
  type: OutboxEventType;
  payload: Record<string, unknown>;
}
