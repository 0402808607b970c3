/**
 * Every machine code the API answers with, and its HTTP status. Titles, details and the
 * descriptions served at /problems/<slug> live in src/i18n/<lang>/problems.json (a test checks
 * every code is translated in every language). Domains add their codes here.
 */
export const ERROR_CATALOG = {
  BAD_REQUEST: { status: 400 },
  MALFORMED_JSON: { status: 400 },
  UNAUTHORIZED: { status: 401 },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  METHOD_NOT_ALLOWED: { status: 405 },
  CONFLICT: { status: 409 },
  REQUEST_TIMEOUT: { status: 408 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  VALIDATION_FAILED: { status: 422 },
  HEADERS_TOO_LARGE: { status: 431 },
  RATE_LIMITED: { status: 429 },
  INTERNAL: { status: 500 },
  UPSTREAM_FAILED: { status: 502 },
  SERVICE_UNAVAILABLE: { status: 503 },

  // Identity (auth, users, accounts).
  USER_EXISTS: { status: 400 },
  INVALID_CREDENTIALS: { status: 401 },
  ACCESS_TOKEN_INVALID: { status: 401 },
  ACCESS_TOKEN_EXPIRED: { status: 401 },
  SESSION_REVOKED: { status: 401 },
  REFRESH_TOKEN_INVALID: { status: 401 },
  REFRESH_TOKEN_REUSED: { status: 401 },
  ACCOUNT_SUSPENDED: { status: 403 },
  ACCOUNT_NOT_ACTIVE: { status: 403 },
  CSRF_REJECTED: { status: 403 },
  INVALID_TOKEN: { status: 400 },
  TOKEN_EXPIRED: { status: 400 },
  ACCOUNT_ALREADY_ACTIVE: { status: 409 },
  LAST_ADMIN: { status: 409 },
  PASSWORD_INCORRECT: { status: 400 },

  // Sign-in through an external OIDC provider.
  OIDC_PROVIDER_NOT_FOUND: { status: 404 },
  OIDC_STATE_INVALID: { status: 400 },
  OIDC_SIGN_IN_REJECTED: { status: 400 },
  OIDC_EMAIL_UNVERIFIED: { status: 409 },
  LAST_SIGN_IN_METHOD: { status: 409 },

  // Two-factor login.
  TWO_FACTOR_CHALLENGE_INVALID: { status: 401 },
  TWO_FACTOR_CODE_INVALID: { status: 400 },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409 },
  TWO_FACTOR_NOT_ENABLED: { status: 409 },
  TWO_FACTOR_SETUP_REQUIRED: { status: 409 },
  TWO_FACTOR_LOCKED: { status: 429 },
  REAUTHENTICATION_REQUIRED: { status: 403 },

  // API keys.
  INVALID_API_KEY: { status: 401 },
  API_KEY_EXPIRED: { status: 401 },
  INSUFFICIENT_SCOPE: { status: 403 },
  API_KEY_SUPERSEDED: { status: 403 },
  API_KEY_LIMIT_REACHED: { status: 409 },

  // Licenses: activation answers an unusable license with 422 and the code its validation has.
  LICENSE_NOT_FOUND: { status: 422 },
  EXPIRED: { status: 422 },
  SUSPENDED: { status: 422 },
  REVOKED: { status: 422 },
  TOO_MANY_ACTIVATIONS: { status: 422 },

  // Checkout and Stripe.
  OUT_OF_STOCK: { status: 409 },
  PRODUCT_INACTIVE: { status: 422 },
  INVALID_SIGNATURE: { status: 401 },

  // Subscriptions.
  PAYMENT_REQUIRED: { status: 402 },
  TRIAL_ALREADY_USED: { status: 409 },
  PLAN_NOT_PURCHASABLE: { status: 422 },
  PLAN_NOT_ON_STRIPE: { status: 409 },
  STRIPE_SUBSCRIPTION_EXISTS: { status: 409 },
  CHECKOUT_IN_PROGRESS: { status: 409 },

  // Metering: what a plan allows, on Gatehouse's own metered endpoints.
  SUBSCRIPTION_REQUIRED: { status: 403 },
  PAST_DUE: { status: 403 },
  ENDPOINT_NOT_IN_PLAN: { status: 403 },
  GEO_RESTRICTED: { status: 403 },
  QUOTA_EXCEEDED: { status: 429 },

  // Outbound webhooks.
  WEBHOOK_ENDPOINT_LIMIT_REACHED: { status: 409 },

  // Idempotency-Key on POSTs with side effects.
  IDEMPOTENCY_KEY_INVALID: { status: 400 },
  IDEMPOTENCY_KEY_IN_USE: { status: 409 },
  IDEMPOTENCY_KEY_REUSED: { status: 422 },
} as const satisfies Record<string, { status: number }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** NOT_FOUND -> not-found: the last segment of a problem's `type` URI. */
export const problemSlug = (code: ErrorCode) => code.toLowerCase().replaceAll('_', '-');

export function codeForSlug(slug: string): ErrorCode | undefined {
  return ERROR_CODES.find((code) => problemSlug(code) === slug);
}

type CatalogStatus = (typeof ERROR_CATALOG)[ErrorCode]['status'];
type CodeWithStatus<S extends number> = { [C in ErrorCode]: (typeof ERROR_CATALOG)[C]['status'] extends S ? C : never }[ErrorCode];

/**
 * The code a bare HTTP status maps to, for errors raised by Nest or Fastify rather than by us: one
 * chosen code per status the catalog uses. A new status in the catalog does not compile until it
 * has its code here, and a code listed under another status does not either.
 */
export const CODE_FOR_STATUS = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL',
  502: 'UPSTREAM_FAILED',
  503: 'SERVICE_UNAVAILABLE',
} as const satisfies { [S in CatalogStatus]: CodeWithStatus<S> };

export type StatusCode = (typeof CODE_FOR_STATUS)[CatalogStatus];

export function codeForStatus(status: number): StatusCode {
  if (Object.hasOwn(CODE_FOR_STATUS, status)) return CODE_FOR_STATUS[status as CatalogStatus];
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}
