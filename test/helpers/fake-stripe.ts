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

/** A local stand-in for Stripe's API: records requests and answers Checkout Session creation in Stripe's shape. */
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
            mode: 'payment',
            url: `https://checkout.stripe.test/c/pay/${id}`,
            client_reference_id: params.client_reference_id,
            customer_email: params.customer_email,
            metadata: Object.fromEntries(Object.entries(params).filter(([key]) => key.startsWith('metadata[')).map(([key, value]) => [key.slice(9, -1), value])),
            payment_status: 'unpaid',
            status: 'open',
          }),
        );
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
export function signedStripeEvent(event: { id: string; type: string; data: { object: object } }, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify({ object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false, ...event });
  const header = new Stripe(STRIPE_TEST_SECRET_KEY).webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? STRIPE_TEST_WEBHOOK_SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  return { payload, header };
}
