import { randomBytes } from 'node:crypto';
import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { checkoutAmounts, FakePrice } from './checkout-amounts';

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

export interface FakeStripeOptions {
  /** Prices it knows, so a session naming one has an `amount_total` (`price_data` lines always do). */
  prices?: readonly FakePrice[];
  /** Told of each answer: "POST /v1/checkout/sessions 200". */
  log?: (line: string) => void;
}

/** Events the fake builds from a session it made and forwards, signed (`POST /_dev/events`). */
export const FORWARDED_EVENT_TYPES = ['checkout.session.completed'] as const;
export const DEV_EVENTS_PATH = '/_dev/events';

/**
 * A local stand-in for Stripe's API: records requests and answers, in Stripe's shape, Checkout
 * Session creation (either mode), retrieval and expiry, customer creation and subscription updates.
 * Outside Stripe's API, `POST /_dev/events` pays a session it made and forwards the signed event
 * (`npm run stripe:dev -- send …`).
 */
export class FakeStripe {
  readonly requests: RecordedStripeRequest[] = [];
  /** Checkout Sessions made, by id, as Stripe keeps them (`pay(id)` marks one paid, `complete(id)` only complete). */
  readonly sessions = new Map<string, Record<string, unknown>>();
  private readonly holds: Hold[] = [];
  private readonly failures: Failure[] = [];
  /** Ids differ from one run to the next, as a database kept between runs still holds the last run's. */
  private readonly run = randomBytes(4).toString('hex');
  /** The event made for each session and type, sent again as is (as Stripe retries) when asked twice. */
  private readonly events = new Map<string, { id: string; created: number }>();
  private readonly prices: Map<string, FakePrice>;

  constructor(private readonly options: FakeStripeOptions = {}) {
    this.prices = new Map((options.prices ?? []).map((price) => [price.id, price]));
  }

  private readonly server: Server = createServer((request, response) => {
    if (this.options.log) {
      response.once('finish', () => this.options.log!(`${request.method} ${request.url} ${response.statusCode}`));
    }
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
      if (line === `POST ${DEV_EVENTS_PATH}`) {
        // JSON only: a web page the developer visits can post a form or text here without a CORS
        // preflight, but not application/json.
        if (!request.headers['content-type']?.startsWith('application/json')) {
          return void response.writeHead(415, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'send application/json' }));
        }
        return void this.forward(raw, response);
      }
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

  /** Marks a session complete (its payment status left as it was). */
  complete(id: string): void {
    const session = this.sessions.get(id);
    if (session) session.status = 'complete';
  }

  /** Completes a session paid, as a customer paying by card at Stripe would; its PaymentIntent or subscription is made. */
  pay(id: string): Record<string, unknown> | undefined {
    const session = this.sessions.get(id);
    if (!session || session.status === 'expired') return undefined;
    if (session.payment_status !== 'paid') {
      session.status = 'complete';
      session.payment_status = 'paid';
      session.url = null;
      if (session.mode === 'subscription') session.subscription = `sub_test_${this.run}${this.requests.length}`;
      else session.payment_intent = `pi_test_${this.run}${this.requests.length}`;
    }
    return session;
  }

  /**
   * The `type` event of session `id`, paid first, signed with `secret` and POSTed to `forwardTo`;
   * the same event (id and all) each time it is asked for the same session.
   */
  async send(type: (typeof FORWARDED_EVENT_TYPES)[number], id: string, forwardTo: string, secret = STRIPE_TEST_WEBHOOK_SECRET) {
    const session = this.pay(id);
    if (!session) return { error: `No open or paid checkout.session ${id} made by this fake Stripe` };
    const key = `${type}:${id}`;
    const made = this.events.get(key) ?? { id: `evt_test_${this.run}${this.events.size + 1}`, created: Math.floor(Date.now() / 1000) };
    this.events.set(key, made);
    const { payload, header } = signedStripeEvent({ ...made, type, data: { object: session } }, { secret, indent: 2 });
    const answer = await fetch(forwardTo, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    return { event: { id: made.id, type }, forwardedTo: forwardTo, status: answer.status, body: await answer.text() };
  }

  /** `POST /_dev/events` `{type, session, forwardTo}`: send() for the CLI, answered with its result. */
  private async forward(raw: string, response: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    let asked: { type?: unknown; session?: unknown; forwardTo?: unknown };
    try {
      asked = JSON.parse(raw) as typeof asked;
    } catch {
      return json(400, { error: 'The body must be JSON: {"type", "session", "forwardTo"}' });
    }
    const { type, session, forwardTo } = asked;
    if (!FORWARDED_EVENT_TYPES.includes(type as never)) return json(400, { error: `type must be one of ${FORWARDED_EVENT_TYPES.join(', ')}` });
    if (typeof session !== 'string' || typeof forwardTo !== 'string') return json(400, { error: 'session and forwardTo must be strings' });
    try {
      const sent = await this.send(type as (typeof FORWARDED_EVENT_TYPES)[number], session, forwardTo);
      json('error' in sent ? 404 : 200, sent);
    } catch (error) {
      const { message, cause } = error as Error;
      json(502, { error: `Could not reach ${forwardTo}: ${message}${cause instanceof Error ? ` (${cause.message})` : ''}` });
    }
  }

  private answer(recorded: RecordedStripeRequest, response: ServerResponse): void {
    const { method, path, params } = recorded;
    this.requests.push(recorded);
    const json = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const id = `cs_test_${this.run}${this.requests.length}`;
      const session: Record<string, unknown> = {
        id,
        object: 'checkout.session',
        mode: params.mode ?? 'payment',
        customer: params.customer ?? null,
        url: `https://checkout.stripe.test/c/pay/${id}`,
        client_reference_id: params.client_reference_id,
        customer_email: params.customer_email,
        metadata: metadataOf(params),
        ...checkoutAmounts(params, this.prices),
        payment_intent: null,
        subscription: null,
        payment_status: 'unpaid',
        status: 'open',
        livemode: false,
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
      return json(200, { id: `cus_test_${this.run}${this.requests.length}`, object: 'customer', email: params.email ?? null, metadata: metadataOf(params) });
    }
    const subscription = method === 'POST' ? /^\/v1\/subscriptions\/([\w-]+)$/.exec(path) : null;
    if (subscription) {
      return json(200, { id: subscription[1], object: 'subscription', status: 'active', cancel_at_period_end: params.cancel_at_period_end === 'true' });
    }
    json(404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
  }

  /** Listens on 127.0.0.1, on `port` (a free one by default); answers its URL. */
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
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
