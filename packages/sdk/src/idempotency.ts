import type { OperationId, operations } from './types.js';

type Header<Op extends OperationId> = NonNullable<operations[Op]['parameters']['header']>;

/** The operations whose spec documents an `Idempotency-Key` header: the server replays a repeat of them. */
export type IdempotentOperation = {
  [Op in OperationId]: [Header<Op>] extends [never] ? never : 'Idempotency-Key' extends keyof Header<Op> ? Op : never;
}[OperationId];

const IDEMPOTENT = [
  'activateLicense',
  'createApiKey',
  'createCheckoutSession',
  'createSubscriptionCheckout',
  'createWebhookEndpoint',
  'grantLicense',
  'recoverWebhookEndpoint',
  'retryWebhookDelivery',
  'rotateApiKey',
  'rotateWebhookEndpointSecret',
  'testWebhookEndpoint',
  'updateSubscription',
  'verifyAccess',
] as const satisfies readonly IdempotentOperation[];

// The list is the spec's, checked by the compiler: an operation gaining or losing the header in
// openapi.json (and so in the generated types) fails to compile here until the list follows.
type Missing = Exclude<IdempotentOperation, (typeof IDEMPOTENT)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

const idempotent: ReadonlySet<OperationId> = new Set(IDEMPOTENT);

/** Whether the server de-duplicates repeats of this operation by Idempotency-Key. */
export function isIdempotentOperation(operation: OperationId): boolean {
  return idempotent.has(operation);
}
