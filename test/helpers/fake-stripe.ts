import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export const STRIPE_TEST_SECRET_KEY = 'sk_test_gatehouse_fake';
export const STRIPE_TEST_WEBHOOK_SECRET = 'whsec_gatehouse_test_secret';

export interface RecordedStripeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The form body as Stripe's client sent it: `metadata[orderId]`, `line_items[0][quantity]`, … */
  params: Record<string, string>;
}

const metadataOf = (params: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(params)
      .filter(([key]) => key.startsWith('metadata['))
      .map(([key, value]) => [key.slice(9, -1), value]),
  );

/**
 * A local stand-in for Stripe's API: records requests and answers, in Stripe's shape, Checkout
 * Session creation (either mode), customer creation and subscription updates.
 */
export class FakeStripe {
  readonly requests: RecordedStripeRequest[] = [];
  private readonly server: Server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(raw));
      this.requests.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization, params });
      if (request.method === 'POST' && request.url === '/v1/checkout/sessions') {
        const id = `cs_test_${this.requests.length}`;
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id,
            object: 'checkout.session',
            mode: params.mode ?? 'payment',
            customer: params.customer ?? null,
            url: `https://checkout.stripe.test/c/pay/${id}`,
            client_reference_id: params.client_reference_id,
            customer_email: params.customer_email,
            metadata: metadataOf(params),
            payment_status: 'unpaid',
            status: 'open',
          }),
        );
        return;
      }
      if (request.method === 'POST' && request.url === '/v1/customers') {
        const id = `cus_test_${this.requests.length}`;
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id, object: 'customer', email: params.email ?? null, metadata: metadataOf(params) }));
        return;
      }
      const subscription = request.method === 'POST' ? /^\/v1\/subscriptions\/([\w-]+)$/.exec(request.url ?? '') : null;
      if (subscription) {
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: subscription[1], object: 'subscription', status: 'active', cancel_at_period_end: params.cancel_at_period_end === 'true' }));
        return;
      }
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A Stripe event as Stripe would deliver it, with a real Stripe-Signature header. */
export function signedStripeEvent(
  event: { id: string; type: string; created?: number; data: { object: object } },
  options: { secret?: string; timestamp?: number } = {},
) {
  const payload = JSON.stringify({ object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false, ...event });
  const header = new Stripe(STRIPE_TEST_SECRET_KEY).webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? STRIPE_TEST_WEBHOOK_SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  return { payload, header };
}
