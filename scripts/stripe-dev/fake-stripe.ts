import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export const STRIPE_TEST_SECRET_KEY = 'sk_test_gatehouse_fake';
export const STRIPE_TEST_WEBHOOK_SECRET = 'whsec_gatehouse_test_secret';

export interface RecordedStripeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  /** The form body as Stripe's client sent it: `metadata[orderId]`, `line_items[0][quantity]`, … */
  params: Record<string, string>;
}

const metadataOf = (params: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(params)
      .filter(([key]) => key.startsWith('metadata['))
      .map(([key, value]) => [key.slice(9, -1), value]),
  );

/** Requests answered with a Stripe error instead, the next `left` of those matching. */
interface Failure {
  path: RegExp;
  left: number;
  status: number;
  headers: Record<string, string>;
}

/** Requests held back until released: a Stripe that hangs, for as long as a test needs. */
interface Hold {
  path: RegExp;
  arrived: number;
  waiting: (() => void)[];
}

/**
 * A local stand-in for Stripe's API: records requests and answers, in Stripe's shape, Checkout
 * Session creation (either mode), retrieval and expiry, customer creation and subscription updates.
 */
export class FakeStripe {
  readonly requests: RecordedStripeRequest[] = [];
  /** Checkout Sessions made, by id, as Stripe keeps them (`complete(id)` marks one paid). */
  readonly sessions = new Map<string, Record<string, unknown>>();
  private readonly holds: Hold[] = [];
  private readonly failures: Failure[] = [];
  private readonly server: Server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      const recorded: RecordedStripeRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        authorization: request.headers.authorization,
        idempotencyKey: request.headers['idempotency-key'] as string | undefined,
        params: Object.fromEntries(new URLSearchParams(raw)),
      };
      const line = `${recorded.method} ${recorded.path}`;
      const failure = this.failures.find((candidate) => candidate.left > 0 && candidate.path.test(line));
      if (failure) {
        failure.left--;
        this.requests.push(recorded);
        response.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        return void response.end(JSON.stringify({ error: { type: 'api_error', message: 'Injected by the test' } }));
      }
      const hold = this.holds.find((candidate) => candidate.path.test(line));
      if (!hold) return this.answer(recorded, response);
      hold.arrived++;
      hold.waiting.push(() => this.answer(recorded, response));
    });
  });

  /**
   * Holds every request matching `path` (against "METHOD /path") until `release()`; `arrived`
   * counts those held so far.
   */
  hold(path: RegExp): { arrived: () => number; release: () => void } {
    const hold: Hold = { path, arrived: 0, waiting: [] };
    this.holds.push(hold);
    return {
      arrived: () => hold.arrived,
      release: () => {
        this.holds.splice(this.holds.indexOf(hold), 1);
        for (const answer of hold.waiting.splice(0)) answer();
      },
    };
  }

  /**
   * Answers the next `times` requests matching `path` (against "METHOD /path") with `status` and
   * Stripe's error body, with `headers` (say `stripe-should-retry`); each is recorded.
   */
  fail(path: RegExp, times: number, status = 500, headers: Record<string, string> = {}): void {
    this.failures.push({ path, left: times, status, headers });
  }

  /** Marks a session paid, as a customer finishing it at Stripe would. */
  complete(id: string): void {
    const session = this.sessions.get(id);
    if (session) session.status = 'complete';
  }

  private answer(recorded: RecordedStripeRequest, response: ServerResponse): void {
    const { method, path, params } = recorded;
    this.requests.push(recorded);
    const json = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const id = `cs_test_${this.requests.length}`;
      const session = {
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
        expires_at: Math.floor(Date.now() / 1000) + 86_400,
      };
      this.sessions.set(id, session);
      return json(200, session);
    }
    const sessionPath = /^\/v1\/checkout\/sessions\/([\w-]+)(\/expire)?$/.exec(path);
    const session = sessionPath ? this.sessions.get(sessionPath[1]!) : undefined;
    if (sessionPath && !session) return json(404, { error: { type: 'invalid_request_error', message: 'No such checkout.session' } });
    if (session && method === 'GET' && !sessionPath![2]) return json(200, session);
    if (session && method === 'POST' && sessionPath![2]) {
      if (session.status !== 'open') {
        return json(400, { error: { type: 'invalid_request_error', message: `Only Checkout Sessions with a status in ["open"] can be expired` } });
      }
      session.status = 'expired';
      session.url = null;
      return json(200, session);
    }
    if (method === 'POST' && path === '/v1/customers') {
      return json(200, { id: `cus_test_${this.requests.length}`, object: 'customer', email: params.email ?? null, metadata: metadataOf(params) });
    }
    const subscription = method === 'POST' ? /^\/v1\/subscriptions\/([\w-]+)$/.exec(path) : null;
    if (subscription) {
      return json(200, { id: subscription[1], object: 'subscription', status: 'active', cancel_at_period_end: params.cancel_at_period_end === 'true' });
    }
    json(404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.failures.splice(0);
    for (const hold of this.holds.splice(0)) for (const answer of hold.waiting.splice(0)) answer();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A Stripe event as Stripe would deliver it, with a real Stripe-Signature header. Stripe itself
 * sends it pretty-printed (`indent: 2`); compact by default.
 */
export function signedStripeEvent(
  event: { id: string; type: string; created?: number; data: { object: object } },
  options: { secret?: string; timestamp?: number; indent?: number } = {},
) {
  const payload = JSON.stringify(
    { object: 'event', api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false, ...event },
    null,
    options.indent,
  );
  const header = new Stripe(STRIPE_TEST_SECRET_KEY).webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? STRIPE_TEST_WEBHOOK_SECRET,
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  return { payload, header };
}
