export { GatehouseClient } from './client.js';
export type { GatehouseClientOptions, RequestOptions } from './transport.js';
export {
  AuthenticationError,
  ConflictError,
  GatehouseError,
  isGatehouseError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from './errors.js';
export { CertificateError, type LicenseCertificate, type VerifyCertificateOptions } from './licenses.js';
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookHeaders } from './verify-webhook.js';
export type { Page } from './paginate.js';
export type * from './types.js';
