import { paginate } from './paginate.js';
import type { RequestOptions, Transport } from './transport.js';
import type { QueryParams, RequestBody, ResponseBody } from './types.js';

const seg = encodeURIComponent;

/** Endpoints that receive the app's signed events. */
export class WebhookEndpointsApi {
  constructor(private readonly t: Transport) {}

  /** The answer holds the signing secret (whsec_…), shown this once. */
  create(body: RequestBody<'createWebhookEndpoint'>, options?: RequestOptions): Promise<ResponseBody<'createWebhookEndpoint'>> {
    return this.t.request({ operation: 'createWebhookEndpoint', method: 'POST', path: '/v1/webhooks/endpoints', body, options });
  }
  list(query: QueryParams<'listWebhookEndpoints'> = {}, options?: RequestOptions): Promise<ResponseBody<'listWebhookEndpoints'>> {
    return this.t.request({ operation: 'listWebhookEndpoints', method: 'GET', path: '/v1/webhooks/endpoints', query, options });
  }
  listAll(
    query: Omit<QueryParams<'listWebhookEndpoints'>, 'cursor'> = {},
    options?: RequestOptions,
  ): AsyncGenerator<ResponseBody<'listWebhookEndpoints'>['items'][number]> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getWebhookEndpoint'>> {
    return this.t.request({ operation: 'getWebhookEndpoint', method: 'GET', path: `/v1/webhooks/endpoints/${seg(id)}`, options });
  }
  update(id: string, body: RequestBody<'updateWebhookEndpoint'>, options?: RequestOptions): Promise<ResponseBody<'updateWebhookEndpoint'>> {
    return this.t.request({ operation: 'updateWebhookEndpoint', method: 'PATCH', path: `/v1/webhooks/endpoints/${seg(id)}`, body, options });
  }
  delete(id: string, options?: RequestOptions): Promise<void> {
    return this.t.request({ operation: 'deleteWebhookEndpoint', method: 'DELETE', path: `/v1/webhooks/endpoints/${seg(id)}`, options });
  }
  /** A new secret (shown once); the previous one keeps signing for 24 hours. */
  rotateSecret(id: string, options?: RequestOptions): Promise<ResponseBody<'rotateWebhookEndpointSecret'>> {
    return this.t.request({ operation: 'rotateWebhookEndpointSecret', method: 'POST', path: `/v1/webhooks/endpoints/${seg(id)}/rotate-secret`, options });
  }
  recover(id: string, body: RequestBody<'recoverWebhookEndpoint'>, options?: RequestOptions): Promise<ResponseBody<'recoverWebhookEndpoint'>> {
    return this.t.request({ operation: 'recoverWebhookEndpoint', method: 'POST', path: `/v1/webhooks/endpoints/${seg(id)}/recover`, body, options });
  }
  /** Sends a ping event now. */
  test(id: string, options?: RequestOptions): Promise<ResponseBody<'testWebhookEndpoint'>> {
    return this.t.request({ operation: 'testWebhookEndpoint', method: 'POST', path: `/v1/webhooks/endpoints/${seg(id)}/test`, options });
  }
}

export class WebhookDeliveriesApi {
  constructor(private readonly t: Transport) {}

  list(query: QueryParams<'listWebhookDeliveries'> = {}, options?: RequestOptions): Promise<ResponseBody<'listWebhookDeliveries'>> {
    return this.t.request({ operation: 'listWebhookDeliveries', method: 'GET', path: '/v1/webhooks/deliveries', query, options });
  }
  listAll(
    query: Omit<QueryParams<'listWebhookDeliveries'>, 'cursor'> = {},
    options?: RequestOptions,
  ): AsyncGenerator<ResponseBody<'listWebhookDeliveries'>['items'][number]> {
    return paginate((cursor) => this.list({ ...query, cursor }, options));
  }
  get(id: string, options?: RequestOptions): Promise<ResponseBody<'getWebhookDelivery'>> {
    return this.t.request({ operation: 'getWebhookDelivery', method: 'GET', path: `/v1/webhooks/deliveries/${seg(id)}`, options });
  }
  retry(id: string, options?: RequestOptions): Promise<ResponseBody<'retryWebhookDelivery'>> {
    return this.t.request({ operation: 'retryWebhookDelivery', method: 'POST', path: `/v1/webhooks/deliveries/${seg(id)}/retry`, options });
  }
}

export class WebhooksApi {
  readonly endpoints: WebhookEndpointsApi;
  readonly deliveries: WebhookDeliveriesApi;

  constructor(private readonly t: Transport) {
    this.endpoints = new WebhookEndpointsApi(t);
    this.deliveries = new WebhookDeliveriesApi(t);
  }

  /** Every event type, with the JSON Schema of its data.object. */
  eventTypes(options?: RequestOptions): Promise<ResponseBody<'listWebhookEventTypes'>> {
    return this.t.request({ operation: 'listWebhookEventTypes', method: 'GET', path: '/v1/webhooks/event-types', options });
  }
}
