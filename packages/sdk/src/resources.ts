import { paginate } from './paginate.js';
import type { RequestOptions, Transport } from './transport.js';
import type { QueryParams, RequestBody, ResponseBody } from './types.js';

type Item<Op extends 'listUsers' | 'listProducts' | 'listOrders' | 'listApiKeys' | 'listSubscriptions'> = ListItem<ResponseBody<Op>>;
type ListItem<Page> = Page extends { items: (infer Entry)[] } ? Entry : never;
const seg = encodeURIComponent;

export class UsersApi {
  constructor(private readonly t: Transport) {}

  me(options?: RequestOptions): Promise<ResponseBody<'getMe'>> {
    return this.t.request({ operation: 'getMe', method: 'GET', path: '/v1/users/me', options });
  }
  update(body: RequestBody<'updateUser'>, options?: RequestOptions): Promise<ResponseBody<'updateUser'>> {
    return this.t.request({ operation: 'updateUser', method: 'PATCH', path: '/v1/users/update', body, options });
  }
  /** ADMIN: one page of users. */
  list(query: QueryParams<'listUsers'> = {}, options?: RequestOptions): Promise<ResponseBody<'listUsers'>> {
    return this.t.request({ operation: 'listUsers', method: 'GET', path: '/v1/users', query, options });
  }
  listAll(query: Omit<QueryParams<'listUsers'>, 'cursor'> = {}, options?: RequestOptions): AsyncGenerator<Item<'listUsers'>> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  updateStatus(id: string, body: RequestBody<'updateUserStatus'>, options?: RequestOptions): Promise<ResponseBody<'updateUserStatus'>> {
    return this.t.request({ operation: 'updateUserStatus', method: 'PATCH', path: `/v1/users/${seg(id)}/status`, body, options });
  }
  updateRole(id: string, body: RequestBody<'updateUserRole'>, options?: RequestOptions): Promise<ResponseBody<'updateUserRole'>> {
    return this.t.request({ operation: 'updateUserRole', method: 'PATCH', path: `/v1/users/${seg(id)}/role`, body, options });
  }
  requestPasswordReset(body: RequestBody<'requestPasswordReset'>, options?: RequestOptions): Promise<ResponseBody<'requestPasswordReset'>> {
    return this.t.request({ operation: 'requestPasswordReset', method: 'POST', path: '/v1/users/password-reset-request', body, anonymous: true, options });
  }
  resetPassword(body: RequestBody<'resetPassword'>, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'resetPassword', method: 'POST', path: '/v1/users/password-reset', body, anonymous: true, options });
  }
  /** ADMIN: switches a user's two-factor login off (a lost phone and recovery codes). */
  resetTwoFactor(id: string, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'resetTwoFactor', method: 'POST', path: `/v1/users/${seg(id)}/2fa/reset`, options });
  }
  /** The OIDC identities linked to the signed-in user. */
  identities(options?: RequestOptions): Promise<ResponseBody<'listUserIdentities'>> {
    return this.t.request({ operation: 'listUserIdentities', method: 'GET', path: '/v1/users/me/identities', options });
  }
  /** Unlinks one of the signed-in user's identities (not the last way in of a user without a password). */
  deleteIdentity(id: string, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'deleteUserIdentity', method: 'DELETE', path: `/v1/users/me/identities/${seg(id)}`, options });
  }
}

export class AccountsApi {
  constructor(private readonly t: Transport) {}

  me(options?: RequestOptions): Promise<ResponseBody<'getMyAccount'>> {
    return this.t.request({ operation: 'getMyAccount', method: 'GET', path: '/v1/accounts/me', options });
  }
  requestActivation(body: RequestBody<'requestAccountActivation'>, options?: RequestOptions): Promise<ResponseBody<'requestAccountActivation'>> {
    return this.t.request({ operation: 'requestAccountActivation', method: 'POST', path: '/v1/accounts/account-activation-request', body, options });
  }
  activate(body: RequestBody<'activateAccount'>, options?: RequestOptions): Promise<ResponseBody<'activateAccount'>> {
    return this.t.request({ operation: 'activateAccount', method: 'POST', path: '/v1/accounts/activate-account', body, anonymous: true, options });
  }
  requestPhoneActivation(body: RequestBody<'requestPhoneActivation'>, options?: RequestOptions): Promise<ResponseBody<'requestPhoneActivation'>> {
    return this.t.request({ operation: 'requestPhoneActivation', method: 'POST', path: '/v1/accounts/phone-number-activation-request', body, options });
  }
  activatePhoneNumber(body: RequestBody<'activatePhoneNumber'>, options?: RequestOptions): Promise<ResponseBody<'activatePhoneNumber'>> {
    return this.t.request({ operation: 'activatePhoneNumber', method: 'POST', path: '/v1/accounts/activate-phone-number', body, options });
  }
}

export class ProductsApi {
  constructor(private readonly t: Transport) {}

  list(query: QueryParams<'listProducts'> = {}, options?: RequestOptions): Promise<ResponseBody<'listProducts'>> {
    return this.t.request({ operation: 'listProducts', method: 'GET', path: '/v1/products', query, options });
  }
  /** `for await (const product of client.products.listAll({ search }))`: every page, cursor by cursor. */
  listAll(query: Omit<QueryParams<'listProducts'>, 'cursor'> = {}, options?: RequestOptions): AsyncGenerator<Item<'listProducts'>> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getProduct'>> {
    return this.t.request({ operation: 'getProduct', method: 'GET', path: `/v1/products/${seg(id)}`, options });
  }
  create(body: RequestBody<'createProduct'>, options?: RequestOptions): Promise<ResponseBody<'createProduct'>> {
    return this.t.request({ operation: 'createProduct', method: 'POST', path: '/v1/products', body, options });
  }
  update(id: string, body: RequestBody<'updateProduct'>, options?: RequestOptions): Promise<ResponseBody<'updateProduct'>> {
    return this.t.request({ operation: 'updateProduct', method: 'PATCH', path: `/v1/products/${seg(id)}`, body, options });
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'deleteProduct', method: 'DELETE', path: `/v1/products/${seg(id)}`, options });
  }
}

export class CheckoutApi {
  constructor(private readonly t: Transport) {}

  createSession(body: RequestBody<'createCheckoutSession'>, options?: RequestOptions): Promise<ResponseBody<'createCheckoutSession'>> {
    return this.t.request({ operation: 'createCheckoutSession', method: 'POST', path: '/v1/checkout/sessions', body, options });
  }
}

export class OrdersApi {
  constructor(private readonly t: Transport) {}

  list(query: QueryParams<'listOrders'> = {}, options?: RequestOptions): Promise<ResponseBody<'listOrders'>> {
    return this.t.request({ operation: 'listOrders', method: 'GET', path: '/v1/orders', query, options });
  }
  listAll(options?: RequestOptions): AsyncGenerator<Item<'listOrders'>> {
    return paginate((cursor) => this.list({ cursor }, options));
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getOrder'>> {
    return this.t.request({ operation: 'getOrder', method: 'GET', path: `/v1/orders/${seg(id)}`, options });
  }
}

export class ApiKeysApi {
  constructor(private readonly t: Transport) {}

  /** The answer holds the key itself, shown this once. */
  create(body: RequestBody<'createApiKey'>, options?: RequestOptions): Promise<ResponseBody<'createApiKey'>> {
    return this.t.request({ operation: 'createApiKey', method: 'POST', path: '/v1/api-keys', body, options });
  }
  list(query: QueryParams<'listApiKeys'> = {}, options?: RequestOptions): Promise<ResponseBody<'listApiKeys'>> {
    return this.t.request({ operation: 'listApiKeys', method: 'GET', path: '/v1/api-keys', query, options });
  }
  listAll(query: Omit<QueryParams<'listApiKeys'>, 'cursor'> = {}, options?: RequestOptions): AsyncGenerator<Item<'listApiKeys'>> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getApiKey'>> {
    return this.t.request({ operation: 'getApiKey', method: 'GET', path: `/v1/api-keys/${seg(id)}`, options });
  }
  revoke(id: string, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'revokeApiKey', method: 'DELETE', path: `/v1/api-keys/${seg(id)}`, options });
  }
  rotate(id: string, options?: RequestOptions): Promise<ResponseBody<'rotateApiKey'>> {
    return this.t.request({ operation: 'rotateApiKey', method: 'POST', path: `/v1/api-keys/${seg(id)}/rotate`, options });
  }
  usage(id: string, query: QueryParams<'getApiKeyUsage'> = {}, options?: RequestOptions): Promise<ResponseBody<'getApiKeyUsage'>> {
    return this.t.request({ operation: 'getApiKeyUsage', method: 'GET', path: `/v1/api-keys/${seg(id)}/usage`, query, options });
  }
  auditLog(id: string, query: QueryParams<'getApiKeyAuditLog'> = {}, options?: RequestOptions): Promise<ResponseBody<'getApiKeyAuditLog'>> {
    return this.t.request({ operation: 'getApiKeyAuditLog', method: 'GET', path: `/v1/api-keys/${seg(id)}/audit-log`, query, options });
  }
}

export class SubscriptionsApi {
  constructor(private readonly t: Transport) {}

  plans(options?: RequestOptions): Promise<ResponseBody<'listPlans'>> {
    return this.t.request({ operation: 'listPlans', method: 'GET', path: '/v1/subscriptions/plans', options });
  }
  updatePlan(code: string, body: RequestBody<'updatePlan'>, options?: RequestOptions): Promise<ResponseBody<'updatePlan'>> {
    return this.t.request({ operation: 'updatePlan', method: 'PATCH', path: `/v1/subscriptions/plans/${seg(code)}`, body, options });
  }
  me(options?: RequestOptions): Promise<ResponseBody<'getMySubscription'>> {
    return this.t.request({ operation: 'getMySubscription', method: 'GET', path: '/v1/subscriptions/me', options });
  }
  /** A Stripe Checkout session for a plan: send the user to its url. */
  checkout(body: RequestBody<'createSubscriptionCheckout'>, options?: RequestOptions): Promise<ResponseBody<'createSubscriptionCheckout'>> {
    return this.t.request({ operation: 'createSubscriptionCheckout', method: 'POST', path: '/v1/subscriptions/checkout', body, options });
  }
  cancel(options?: RequestOptions): Promise<ResponseBody<'cancelSubscription'>> {
    return this.t.request({ operation: 'cancelSubscription', method: 'POST', path: '/v1/subscriptions/cancel', options });
  }
  /** Change an account's plan: a preset by planCode, or a custom plan (ADMIN); your own account unless an ADMIN names a userId. */
  update(body: RequestBody<'updateSubscription'>, options?: RequestOptions): Promise<ResponseBody<'updateSubscription'>> {
    return this.t.request({ operation: 'updateSubscription', method: 'POST', path: '/v1/accounts/update-subscription', body, options });
  }
  list(query: QueryParams<'listSubscriptions'> = {}, options?: RequestOptions): Promise<ResponseBody<'listSubscriptions'>> {
    return this.t.request({ operation: 'listSubscriptions', method: 'GET', path: '/v1/subscriptions', query, options });
  }
  listAll(query: Omit<QueryParams<'listSubscriptions'>, 'cursor'> = {}, options?: RequestOptions): AsyncGenerator<Item<'listSubscriptions'>> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  get(accountId: string, options?: RequestOptions): Promise<ResponseBody<'getSubscription'>> {
    return this.t.request({ operation: 'getSubscription', method: 'GET', path: `/v1/subscriptions/${seg(accountId)}`, options });
  }
  usage(accountId: string, options?: RequestOptions): Promise<ResponseBody<'getSubscriptionUsage'>> {
    return this.t.request({ operation: 'getSubscriptionUsage', method: 'GET', path: `/v1/subscriptions/${seg(accountId)}/usage`, options });
  }
}

export class AccessApi {
  constructor(private readonly t: Transport) {}

  /**
   * Vendor side, with a verify-scope API key (it can do nothing else): may this customer's key make
   * this call? Sent with an Idempotency-Key, so a retry is replayed and counts the call once.
   */
  verify(body: RequestBody<'verifyAccess'>, options?: RequestOptions): Promise<ResponseBody<'verifyAccess'>> {
    return this.t.request({ operation: 'verifyAccess', method: 'POST', path: '/v1/access/verify', body, options });
  }
}

/** The published integration endpoints' own paths (errors in the integration format). */
export class IntegrationApi {
  constructor(private readonly t: Transport) {}

  /**
   * Every active product in the integration format (`[{Id, Sku, Name, ...}]`, prices as numbers).
   * Metered: each call counts against the caller's plan, and over quota it throws a RateLimitError
   * whose problem carries `limit`, `apiVersion`, `endpoint` and `resetsAt`.
   */
  getAll(options?: RequestOptions): Promise<ResponseBody<'getAllProducts'>> {
    return this.t.request({ operation: 'getAllProducts', method: 'GET', path: '/api/integration/products/getAll', options });
  }
}

/** Liveness and readiness, for monitors. */
export class HealthApi {
  constructor(private readonly t: Transport) {}

  live(options?: RequestOptions): Promise<ResponseBody<'live'>> {
    return this.t.request({ operation: 'live', method: 'GET', path: '/health/live', anonymous: true, options });
  }
  /** Throws a GatehouseError (503 SERVICE_UNAVAILABLE) while the database or Redis does not answer. */
  ready(options?: RequestOptions): Promise<ResponseBody<'ready'>> {
    return this.t.request({ operation: 'ready', method: 'GET', path: '/health/ready', anonymous: true, options });
  }
}

/** What a problem's `type` means: `problems.get('validation-failed')`. */
export class ProblemsApi {
  constructor(private readonly t: Transport) {}

  get(slug: string, options?: RequestOptions): Promise<ResponseBody<'getProblemType'>> {
    return this.t.request({ operation: 'getProblemType', method: 'GET', path: `/problems/${seg(slug)}`, anonymous: true, options });
  }
  /** The integration format's types (`validation`, `business`, `authorization`, `authentication`, `internal`). */
  getIntegration(slug: string, options?: RequestOptions): Promise<ResponseBody<'getIntegrationProblemType'>> {
    return this.t.request({ operation: 'getIntegrationProblemType', method: 'GET', path: `/probs/${seg(slug)}`, anonymous: true, options });
  }
}
