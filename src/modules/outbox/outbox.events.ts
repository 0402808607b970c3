import { z } from 'zod';

/**
 * The outbound event catalog: one zod schema per event type, named as published. Every state
 * change that customers hear about appends one of these to `outbox_messages` in its own
 * transaction; the TypeScript payload types derive from these schemas, and so will the JSON
 * Schemas the webhooks module publishes, so the three cannot drift apart.
 */
const orderId = z.string().meta({ description: 'The order (ord_…)' });
const userId = z.string().meta({ description: 'The buyer, owner of the order or license (usr_…)' });
const licenseId = z.string().meta({ description: 'The license (lic_…)' });
const productId = z.string().meta({ description: 'The licensed product (prd_…)' });
const subscriptionOwner = {
  subscriptionId: z.string().meta({ description: 'The subscription (sub_…)' }),
  accountId: z.string().meta({ description: 'The subscribed account (acc_…)' }),
  userId: z.string().meta({ description: 'The account owner (usr_…)' }),
  stripeSubscriptionId: z.string().meta({ description: "Stripe's subscription (sub_… in Stripe)" }),
};
const minorUnits = (description: string) =>
  z
    .number()
    .int()
    .meta({ description: `${description}, in minor units of the order's currency` });

const quotaAlert = z.object({
  userId: z.string().meta({ description: 'The customer whose calls are counted (usr_…)' }),
  accountId: z.string().nullable().meta({ description: 'Its account (acc_…); null on the free tier without an account' }),
  planCode: z.string().meta({ description: 'The plan code the limit belongs to' }),
  plan: z.string().meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
  apiVersion: z.string().meta({ description: 'The limit: its API version…' }),
  endpoint: z.string().meta({ description: '…and its endpoint ("*": every metered endpoint of the version without its own)' }),
  limit: z.number().int().meta({ description: 'Calls allowed in the window' }),
  used: z.number().int().meta({ description: 'Calls counted in the window when the alert fired' }),
  windowStart: z.iso.datetime({ offset: true }),
  resetsAt: z.iso.datetime({ offset: true }).nullable().meta({ description: 'When the window resets; null when it never does' }),
});

export const OUTBOX_EVENTS = {
  'checkout.session.completed': z
    .object({
      orderId,
      userId,
      sessionId: z.string().meta({ description: 'The Stripe Checkout Session that paid the order (cs_…)' }),
      amountTotal: minorUnits('What was paid'),
      currency: z.string().length(3).meta({ description: 'ISO 4217, upper case' }),
      licenseIds: z.array(licenseId).meta({ description: 'The licenses issued, one per unit bought' }),
    })
    .meta({ description: 'An order was paid: it is PAID, stock was taken and its licenses issued' }),
  'charge.refunded': z
    .object({
      orderId,
      userId,
      amountRefunded: minorUnits('Everything refunded so far'),
      full: z.boolean().meta({ description: 'The whole amount: the order is REFUNDED and its licenses revoked' }),
    })
    .meta({ description: "Money went back to the buyer; a full refund revokes the order's licenses" }),
  'charge.dispute.created': z
    .object({
      orderId,
      userId,
      disputeId: z.string().meta({ description: 'The Stripe dispute (dp_…)' }),
      reason: z.string().meta({ description: "Stripe's dispute reason, e.g. fraudulent" }),
      amount: minorUnits('The disputed amount'),
    })
    .meta({ description: "A chargeback opened: the order's active licenses are SUSPENDED until it is decided" }),
  'charge.dispute.closed': z
    .object({
      orderId,
      userId,
      disputeId: z.string().meta({ description: 'The Stripe dispute (dp_…)' }),
      status: z.string().meta({ description: "Stripe's final dispute status, e.g. won or lost" }),
      lost: z.boolean().meta({ description: 'Lost: the licenses are REVOKED; otherwise the suspended ones are ACTIVE again' }),
    })
    .meta({ description: 'A chargeback was decided' }),
  'payment_intent.payment_failed': z
    .object({
      orderId,
      userId,
      paymentIntentId: z.string().meta({ description: 'The Stripe PaymentIntent (pi_…)' }),
    })
    .meta({
      description:
        'A payment attempt failed: the order is FAILED. The buyer may still pay in the same session, unless a delayed payment (a bank debit) failed after the session completed, which ends it',
    }),
  'license.validated': z
    .object({
      licenseId,
      productId,
      userId,
      fingerprint: z.string().nullable().meta({ description: 'The machine that asked, when it said' }),
      validatedAt: z.iso.datetime({ offset: true }).meta({ description: 'When the VALID answer was given' }),
    })
    .meta({ description: 'A license key was checked and found VALID' }),
  'license.activated': z
    .object({
      licenseId,
      productId,
      userId,
      activationId: z.string().meta({ description: 'The new activation (act_…)' }),
      fingerprint: z.string().meta({ description: 'The machine activated' }),
    })
    .meta({ description: 'A new machine was activated on a license (not sent again for a fingerprint already active)' }),
  'license.deactivated': z
    .object({
      licenseId,
      productId,
      userId,
      fingerprint: z.string().meta({ description: 'The machine released' }),
    })
    .meta({ description: 'A machine was deactivated on a license: its seat is free again' }),
  'license.suspended': z
    .object({
      licenseId,
      productId,
      userId,
      reason: z.enum(['ADMIN', 'DISPUTE']).meta({ description: 'An ADMIN suspended it, or a chargeback was opened on its order' }),
    })
    .meta({ description: 'A license was suspended: it validates as SUSPENDED until reinstated' }),
  'license.revoked': z
    .object({
      licenseId,
      productId,
      userId,
      reason: z
        .enum(['ADMIN', 'REFUND', 'DISPUTE_LOST'])
        .meta({ description: 'An ADMIN revoked it, its order was refunded in full, or a chargeback was lost' }),
    })
    .meta({ description: 'A license was revoked, for good' }),
  'subscription.changed': z
    .object({
      subscriptionId: z.string().meta({ description: 'The subscription (sub_…)' }),
      accountId: z.string().meta({ description: 'The subscribed account (acc_…)' }),
      userId: z.string().meta({ description: 'The account owner (usr_…)' }),
      source: z.enum(['ADMIN', 'USER', 'STRIPE', 'EXPIRY']).meta({ description: 'Why it changed: an ADMIN, the user, a Stripe event, or the end of its term' }),
      previousPlanCode: z.string().meta({ description: 'The plan code before the change' }),
      planCode: z.string().meta({ description: 'The plan code after the change, e.g. PREMIUM_MONTHLY' }),
      previousPlan: z.string().meta({ deprecated: true, description: 'Deprecated: the same value as previousPlanCode' }),
      plan: z.string().meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
      planId: z.string().meta({ description: 'The plan (pln_…); each CUSTOM plan has its own' }),
      status: z.enum(['NONE', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED']),
      currentPeriodStart: z.iso.datetime({ offset: true }).meta({ description: 'Where usage counting starts again' }),
      currentPeriodEnd: z.iso.datetime({ offset: true }).nullable().meta({ description: 'Null on NONE' }),
      changedAt: z.iso.datetime({ offset: true }),
    })
    .meta({ description: "An account's subscription changed plan or state, whatever the source (exactly one event per change)" }),
  'invoice.paid': z
    .object({
      ...subscriptionOwner,
      invoiceId: z.string().meta({ description: 'The Stripe invoice (in_…); sent once per invoice' }),
      amountPaid: z.number().int().meta({ description: "What was paid, in minor units of the invoice's currency" }),
      currency: z.string().length(3).meta({ description: 'ISO 4217, upper case' }),
      currentPeriodEnd: z.iso.datetime({ offset: true }).meta({ description: "The paid period ends here (the invoice line's period end)" }),
    })
    .meta({ description: 'A Stripe subscription invoice was paid: the period is extended to its end' }),
  'customer.subscription.updated': z
    .object({
      ...subscriptionOwner,
      planCode: z.string().meta({ description: 'The plan code after the update' }),
      plan: z.string().meta({ deprecated: true, description: 'Deprecated: the same value as planCode' }),
      status: z.enum(['NONE', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED']),
      cancelAtPeriodEnd: z.boolean().meta({ description: 'It ends at the period end instead of renewing' }),
      currentPeriodEnd: z.iso.datetime({ offset: true }).nullable(),
    })
    .meta({ description: 'Stripe changed a subscription (status, plan, period or cancel at period end), and it was applied' }),
  'customer.subscription.deleted': z
    .object({
      ...subscriptionOwner,
      endedAt: z.iso.datetime({ offset: true }).meta({ description: 'When it was applied: the account is on NONE from then' }),
    })
    .meta({ description: 'A Stripe subscription ended: the account is on NONE' }),
  'subscription.quota.warning': quotaAlert.meta({ description: 'A quota window reached 80% of its limit (once per window)' }),
  'subscription.quota.exceeded': quotaAlert.meta({
    description: 'A quota window reached its limit, or refused its first call for want of room (once per window)',
  }),
} as const;

export type OutboxEventType = keyof typeof OUTBOX_EVENTS;

export const OUTBOX_EVENT_TYPES = Object.keys(OUTBOX_EVENTS) as OutboxEventType[];

export type OutboxPayload<T extends OutboxEventType> = z.infer<(typeof OUTBOX_EVENTS)[T]>;

/** One event, its payload checked against its type at compile time: `{ type: 'license.activated', payload }`. */
export type OutboxEvent<T extends OutboxEventType = OutboxEventType> = { [K in T]: { type: K; payload: OutboxPayload<K> } }[T];

/** Sent only by an endpoint's test (never through the outbox): it proves the URL and the signatures work. */
export const PING_EVENT = z
  .object({
    endpointId: z.string().meta({ description: 'The endpoint tested (whe_…)' }),
    message: z.string().meta({ description: 'A fixed greeting; nothing happened' }),
  })
  .meta({ description: "A test event, sent when an endpoint's owner asks for one" });

/** Every type an endpoint may subscribe to and receive: the outbox catalog, and ping. */
export const WEBHOOK_EVENTS = { ...OUTBOX_EVENTS, ping: PING_EVENT } as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;

export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as [WebhookEventType, ...WebhookEventType[]];
